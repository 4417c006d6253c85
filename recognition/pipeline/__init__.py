"""How a page is read: the same stages for every engine, each in its own module.

    decode (decode.py)            bytes -> RGB pages: type by content, EXIF, transparency, bounds
    page orientation              the quarter turn that makes the page upright (orientation.py)
    detection                     text boxes at a resolution chosen for the page (detection.py)
    recognition                   crops read, page 0/180 settled, line-shaped images read whole (lines.py)
    reading order                 columns, blocks, registers, vertical or horizontal (reading_order.py)
    formats                       the response's text (formats.py)

An engine supplies the three model steps (detect, recognize, classify_upside_down); everything else is
here. Boxes are returned in the pixels of the image as the user sent it (after EXIF rotation).

A Deadline bounds the time of a page and of the request it belongs to: it is checked between the stages
and before every call of the engine (detection tiles, line batches), so that a page stops within one such
step of its limit.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import errors
from ..engines import OcrEngine, Recognised, TextLine
from .detection import detect_boxes
from .geometry import ordered_corners, turn, unturn_points
from .lines import is_line_shaped, read_lines, read_whole_image
from .orientation import page_turn
from .reading_order import order_lines


@dataclass(frozen=True)
class PageOptions:
    detect_orientation: bool = True
    use_angle_cls: bool = True
    text_layout: str = "auto"
    min_confidence: float = 0.5


@dataclass(frozen=True)
class PageReading:
    # Visual lines (or columns) in reading order, each a list of lines in reading order; boxes in the
    # pixels of the image as given.
    groups: list[list[TextLine]]
    # Degrees the image was turned counter-clockwise to be read upright.
    rotation: int


class Deadline:
    """The time limits of one request (from its start) and of its current page (from start_page); 0 is no
    limit. check() raises RequestTimeout or PageTimeout once one is past."""

    def __init__(self, request_seconds: float, page_seconds: float):
        self.request_seconds, self.page_seconds = request_seconds, page_seconds
        self.request_end = time.monotonic() + request_seconds if request_seconds > 0 else math.inf
        self.page_end = math.inf

    def start_page(self) -> None:
        self.page_end = time.monotonic() + self.page_seconds if self.page_seconds > 0 else math.inf

    def check(self) -> None:
        now = time.monotonic()
        if now > self.request_end:
            raise errors.RequestTimeout(
                f"识别超时：本次请求已超过 {self.request_seconds:g} 秒上限（OCR_REQUEST_TIMEOUT），请减少文件或页数后重试",
                timeout_seconds=self.request_seconds,
            )
        if now > self.page_end:
            raise errors.PageTimeout(
                f"识别超时：一页已超过 {self.page_seconds:g} 秒上限（OCR_PAGE_TIMEOUT），请缩小图片或拆分页面后重试",
                timeout_seconds=self.page_seconds,
            )


class BoundedEngine:
    """An engine whose every call first checks the deadline. The lines of a page are recognised in batches
    of RECOGNITION_BATCH crops, taken in order of width/height: both engines sort a call's crops that way
    before they batch them, so the engine batches the same crops together as in one call for all."""

    RECOGNITION_BATCH = 96

    def __init__(self, engine: OcrEngine, deadline: Deadline):
        self.engine, self.deadline, self.threads = engine, deadline, engine.threads

    def detect(self, image: np.ndarray) -> np.ndarray:
        self.deadline.check()
        return self.engine.detect(image)

    def classify_upside_down(self, crops: list[np.ndarray]) -> list[tuple[bool, float]]:
        self.deadline.check()
        return self.engine.classify_upside_down(crops)

    def recognize(self, crops: list[np.ndarray]) -> list[Recognised]:
        if len(crops) <= self.RECOGNITION_BATCH:
            self.deadline.check()
            return self.engine.recognize(crops)
        order = sorted(range(len(crops)), key=lambda index: crops[index].shape[1] / max(1, crops[index].shape[0]))
        readings: list[Recognised | None] = [None] * len(crops)
        for start in range(0, len(order), self.RECOGNITION_BATCH):
            self.deadline.check()
            batch = order[start:start + self.RECOGNITION_BATCH]
            for index, reading in zip(batch, self.engine.recognize([crops[index] for index in batch])):
                readings[index] = reading
        return readings


def read_page(engine: OcrEngine, image: np.ndarray, options: PageOptions,
              deadline: Deadline | None = None) -> PageReading:
    """The page read; with a deadline, OcrTimeout once it is past (its decoding counts: checked first)."""
    if deadline is not None:
        deadline.check()
        engine = BoundedEngine(engine, deadline)
    rotation = page_turn(image, engine.threads) if options.detect_orientation else 0
    if deadline is not None:
        deadline.check()
    upright = turn(image, rotation)
    quads = np.array([ordered_corners(box) for box in detect_boxes(engine, upright)], dtype=np.float64)
    lines = []
    if len(quads):
        lines, upside_down = read_lines(engine, upright, quads, options.use_angle_cls)
        rotation += 180 if upside_down else 0
    elif is_line_shaped(upright.shape):
        whole = read_whole_image(engine, upright, options.min_confidence)
        if whole is not None:
            line, extra_turn = whole
            lines = [line]
            rotation += extra_turn
    rotation %= 360
    # The lines' quads are in the pixels of the image turned by `rotation`: ordered there, returned in the
    # frame of the image as given.
    height, width = image.shape[:2]
    turned_shape = (height, width) if rotation % 180 == 0 else (width, height)
    upright_lines = [TextLine(line.text, round(float(line.confidence), 4), ordered_corners(line.quad))
                     for line in lines]

    def as_sent(line: TextLine) -> TextLine:
        box = ordered_corners(unturn_points(np.asarray(line.box), rotation, turned_shape))
        return TextLine(line.text, line.confidence, box)

    groups = [[as_sent(line) for line in group] for group in order_lines(upright_lines, options.text_layout)]
    if deadline is not None:
        deadline.check()
    return PageReading(groups=groups, rotation=rotation)
