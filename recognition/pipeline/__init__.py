"""How a page is read: the same stages for every engine, each in its own module.

    decode (decode.py)            bytes -> RGB pages: type by content, EXIF, transparency, bounds
    page orientation              the quarter turn that makes the page upright (orientation.py)
    detection                     text boxes at a resolution chosen for the page (detection.py)
    recognition                   crops read, page 0/180 settled, line-shaped images read whole (lines.py)
    reading order                 columns, blocks, registers, vertical or horizontal (reading_order.py)
    formats                       the response's text (formats.py)

An engine supplies the three model steps (detect, recognize, classify_upside_down); everything else is
here. Boxes are returned in the pixels of the image as the user sent it (after EXIF rotation).
"""

from dataclasses import dataclass

import numpy as np

from ..engines import OcrEngine, TextLine
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


def read_page(engine: OcrEngine, image: np.ndarray, options: PageOptions) -> PageReading:
    rotation = page_turn(image, engine.threads) if options.detect_orientation else 0
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
    return PageReading(groups=groups, rotation=rotation)
