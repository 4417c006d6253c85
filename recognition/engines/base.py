"""The one interface every OCR engine implements: the three model steps of PP-OCR.

An engine detects text boxes on an image the pipeline has already sized, recognises the text of line
images the pipeline has cut out, and classifies line images as upright or upside down. Everything around
them (orientation, resizing, cropping, fallbacks, reading order) is the pipeline's, in recognition/pipeline,
so that every engine gains from it.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .models import ModelSpec

Point = tuple[int, int]


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    # Four points clockwise from the top-left corner, in pixels.
    box: tuple[Point, Point, Point, Point]


@dataclass(frozen=True)
class Recognised:
    text: str
    confidence: float


class OcrEngine(ABC):
    """An engine holds loaded models for one ModelSpec. It is not thread-safe: see engines.LoadedEngine.

    Images are RGB uint8 arrays (H x W x 3)."""

    name: str

    def __init__(self, spec: ModelSpec, threads: int, use_gpu: bool):
        self.spec = spec
        self.threads = threads
        self.use_gpu = use_gpu

    @abstractmethod
    def detect(self, image: np.ndarray) -> np.ndarray:
        """Text boxes as an (N, 4, 2) float array in the pixels of `image`, which the engine must not
        resize beyond rounding its sides to what the network needs."""

    @abstractmethod
    def recognize(self, crops: list[np.ndarray]) -> list[Recognised]:
        """The text of each line image (horizontal text, left to right), in the order given."""

    @abstractmethod
    def classify_upside_down(self, crops: list[np.ndarray]) -> list[tuple[bool, float]]:
        """For each line image: (read upside down?, the classifier's confidence)."""

    def warm_up(self) -> None:
        """Load every model and run it once, so that the first request does not pay for it."""
        canvas = np.full((64, 256, 3), 255, dtype=np.uint8)
        canvas[24:40, 32:224] = 0
        self.detect(canvas)
        line = canvas[16:48]
        self.recognize([line])
        self.classify_upside_down([line])
