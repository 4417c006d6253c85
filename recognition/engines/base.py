"""The one interface every OCR engine implements: an image in, text lines with confidence and box out."""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .models import ModelSpec

Point = tuple[int, int]


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    # Four points clockwise from the top-left corner, in pixels of the image given to the engine.
    box: tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class PageReading:
    lines: list[TextLine]
    # True when most lines were read upside down: the page was scanned rotated by 180 degrees, so its
    # reading order runs from the bottom right of the image.
    upside_down: bool = False


class OcrEngine(ABC):
    """An engine holds loaded models for one ModelSpec. It is not thread-safe: see engines.registry."""

    name: str

    def __init__(self, spec: ModelSpec, threads: int, use_gpu: bool):
        self.spec = spec
        self.threads = threads
        self.use_gpu = use_gpu

    @abstractmethod
    def read(self, image: np.ndarray, use_angle_cls: bool) -> PageReading:
        """Recognise an RGB uint8 image (H x W x 3)."""

    def warm_up(self) -> None:
        """Load every model and run it once, so that the first request does not pay for it."""
        canvas = np.full((64, 256, 3), 255, dtype=np.uint8)
        canvas[24:40, 32:224] = 0
        self.read(canvas, use_angle_cls=True)


def box_to_points(box) -> tuple[Point, Point, Point, Point]:
    """Integer points in the order top-left, top-right, bottom-right, bottom-left."""
    points = np.asarray(box, dtype=np.float64).reshape(4, 2)
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    clockwise = points[np.argsort(angles)]  # image y grows downwards, so ascending angle is clockwise
    start = int(np.argmin(clockwise[:, 0] + clockwise[:, 1]))
    ordered = np.roll(clockwise, -start, axis=0)
    return tuple((int(round(x)), int(round(y))) for x, y in ordered)  # type: ignore[return-value]


def is_upside_down(orientations: list[tuple[bool, float]]) -> bool:
    """Vote over the lines' orientation classifications (flipped?, confidence), weighted by confidence.

    One page is scanned in one orientation, so the page-level vote replaces per-line flips: those turn
    single long English lines upside down on upright pages (measured in shared/ENGINES.md).
    """
    flipped = sum(score for is_flipped, score in orientations if is_flipped)
    upright = sum(score for is_flipped, score in orientations if not is_flipped)
    return flipped > upright


def mean_confidence(texts, scores) -> float:
    """Recognition confidence of a page, each line weighted by its length."""
    weights = [max(1, len(text.strip())) for text in texts or ()]
    if not weights:
        return 0.0
    return sum(w * float(s) for w, s in zip(weights, scores)) / sum(weights)
