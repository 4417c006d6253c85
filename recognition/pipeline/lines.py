"""Recognition of the detected lines, and of images shaped like one line when nothing is detected.

Crops are cut from the upright page at full resolution. A box much taller than wide is a column of
vertical text (Chinese books, genealogies): it is turned a quarter counter-clockwise so that its first
character comes first, as PP-OCR's recognisers are trained to read columns.

The page is read in one orientation: the line classifier votes whether the upright page is in fact upside
down, and the recogniser's confidence on the lines read both ways decides (the classifier alone flips long
Latin lines).
"""

from dataclasses import dataclass

import cv2
import numpy as np

from ..engines import OcrEngine, Recognised
from .geometry import side_lengths, turn, unturn_points
from .orientation import is_upside_down

# A crop this much taller than wide is read as a vertical column.
COLUMN_ASPECT = 1.5
# Lines read both ways to settle whether a page is upside down.
FLIP_SAMPLE = 6
# A column read with less confidence than this is also read as two columns side by side: detectors take the
# two thin columns of a double-line annotation (双行小注) for one.
SPLIT_BELOW = 0.85
# An image up to this size (pixels on its longer side), or shaped like a line, is read whole when no box
# is detected on it.
LINE_IMAGE_MAX_SIDE = 1024
LINE_IMAGE_MIN_ASPECT = 2.5


@dataclass(frozen=True)
class ReadLine:
    quad: np.ndarray  # (4, 2) in the upright page's pixels
    text: str
    confidence: float


def crop(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quad cut out and straightened; columns turned to read as one horizontal line."""
    width, height = side_lengths(quad)
    width, height = max(1, int(round(width))), max(1, int(round(height)))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32), target)
    line = cv2.warpPerspective(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE,
                               flags=cv2.INTER_CUBIC)
    return turn(line, 90) if height >= COLUMN_ASPECT * width else line


def weighted_confidence(readings: list[Recognised]) -> float:
    """Recognition confidence of several lines, each weighted by its length."""
    weights = [max(1, len(reading.text.strip())) for reading in readings]
    if not weights:
        return 0.0
    return sum(w * reading.confidence for w, reading in zip(weights, readings)) / sum(weights)


def read_lines(engine: OcrEngine, image: np.ndarray, quads: np.ndarray, use_angle_cls: bool
               ) -> tuple[list[ReadLine], bool]:
    """The lines' text, and whether the page turned out to be upside down (then the quads and texts are
    those of the page turned by 180 degrees)."""
    crops = [crop(image, quad) for quad in quads]
    upside_down = False
    if use_angle_cls and is_upside_down(engine.classify_upside_down(crops)):
        # The classifier's vote is checked on the longest lines read both ways, before all are read once.
        sample = sorted(range(len(crops)), key=lambda i: crops[i].shape[1], reverse=True)[:FLIP_SAMPLE]
        as_is = engine.recognize([crops[i] for i in sample])
        turned = engine.recognize([turn(crops[i], 180) for i in sample])
        upside_down = weighted_confidence(turned) > weighted_confidence(as_is)
    if upside_down:
        crops = [turn(line, 180) for line in crops]
    readings = engine.recognize(crops)
    lines = [line for quad, reading in zip(quads, readings)
             for line in _split_double_column(engine, image, np.asarray(quad), reading, upside_down) if line.text]
    if upside_down:
        lines = [ReadLine(unturn_points(line.quad, 180, image.shape), line.text, line.confidence) for line in lines]
    return lines, upside_down


def _split_double_column(engine: OcrEngine, image: np.ndarray, quad: np.ndarray, reading: Recognised,
                         upside_down: bool) -> list[ReadLine]:
    """The line, or the two columns it turns out to hold when the recogniser reads both confidently (quads in
    the pixels of `image`, read upside down if the page is)."""
    line = ReadLine(quad, reading.text.strip(), reading.confidence)
    width, height = side_lengths(quad)
    if reading.confidence >= SPLIT_BELOW or height < COLUMN_ASPECT * width:
        return [line]
    top, bottom = (quad[0] + quad[1]) / 2, (quad[3] + quad[2]) / 2
    halves = [np.array([top, quad[1], quad[2], bottom]), np.array([quad[0], top, bottom, quad[3]])]
    crops = [crop(image, half) for half in halves]
    readings = engine.recognize([turn(c, 180) for c in crops] if upside_down else crops)
    if all(half.text.strip() and half.confidence >= SPLIT_BELOW for half in readings):
        return [ReadLine(half, half_reading.text.strip(), half_reading.confidence)
                for half, half_reading in zip(halves, readings)]
    return [line]


def is_line_shaped(shape: tuple[int, ...]) -> bool:
    height, width = shape[:2]
    return max(height, width) <= LINE_IMAGE_MAX_SIDE or max(height, width) >= LINE_IMAGE_MIN_ASPECT * min(height, width)


def read_whole_image(engine: OcrEngine, image: np.ndarray, min_confidence: float) -> tuple[ReadLine, int] | None:
    """An image with no detected box, read as one line in the turn (degrees counter-clockwise) the
    recogniser is surest of: 0 or 180, and 90 or 270 for a tall image. None below `min_confidence`."""
    height, width = image.shape[:2]
    turns = (0, 180, 90, 270) if height > width else (0, 180)
    candidates = [turn(image, degrees) for degrees in turns]
    readings = engine.recognize(candidates)
    best = max(range(len(turns)), key=lambda index: (bool(readings[index].text.strip()), readings[index].confidence))
    reading = readings[best]
    if not reading.text.strip() or reading.confidence < min_confidence:
        return None
    turned_height, turned_width = candidates[best].shape[:2]
    quad = np.array([[0, 0], [turned_width - 1, 0], [turned_width - 1, turned_height - 1], [0, turned_height - 1]],
                    dtype=np.float64)
    return ReadLine(quad, reading.text.strip(), reading.confidence), turns[best]
