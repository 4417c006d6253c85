"""The detection resize policy, on the real engine: what the detector is given for each size of image, and
boxes returned in the image's own pixels."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from recognition.engines import engine_for
from recognition.pipeline import PageOptions, read_page
from recognition.pipeline.detection import DET_MAX_SIDE, DET_TILE, MARGIN_MAX, detect_boxes
from tests.pages import font, render_lines, render_single_line


class RecordingEngine:
    """The real engine, recording the size of every image its detector is given."""

    def __init__(self, engine):
        self._engine = engine
        self.threads = engine.threads
        self.detected_shapes = []

    def detect(self, image):
        self.detected_shapes.append(image.shape[:2])
        return self._engine.detect(image)

    def __getattr__(self, name):
        return getattr(self._engine, name)


@pytest.fixture
def engine():
    return RecordingEngine(engine_for("ch").engines[0].engine)


def text_of(reading):
    return "".join(line.text for group in reading.groups for line in group)


def test_a_line_image_is_not_enlarged_and_is_read(engine):
    image, _ = render_single_line("Hello world!你好世界", height=32)
    reading = read_page(engine, np.asarray(image), PageOptions())
    assert text_of(reading).replace(" ", "") == "Helloworld!你好世界"
    # Once, at its own size plus a margin: blind upscaling made such a line a 6440 x 736 input.
    (height, width), = engine.detected_shapes
    assert height <= 32 + 2 * MARGIN_MAX and width <= image.width + 2 * MARGIN_MAX + 32


def test_a_page_up_to_the_limit_is_detected_at_full_resolution(engine):
    image = np.asarray(render_lines(["白日依山尽，黄河入海流。"] * 3, size=40, margin=200))
    boxes = detect_boxes(engine, image)
    assert len(boxes) == 3
    (height, width), = engine.detected_shapes
    assert abs(height - image.shape[0]) <= 2 * MARGIN_MAX + 32 and abs(width - image.shape[1]) <= 2 * MARGIN_MAX + 32


def test_a_large_scan_with_small_print_is_detected_again_in_tiles(engine):
    page = Image.new("RGB", (4800, 3600), "white")
    draw = ImageDraw.Draw(page)
    typeface = font("sans", 24)
    # One line across the middle of the page, where the tiles overlap; one across a tile's edge.
    lines = {(1500, 1700): "文物部门在古城遗址中新发现一批陶器和青铜器。", (300, 2600): "The library opened a new reading room."}
    for position, text in lines.items():
        draw.text(position, text, font=typeface, fill="black")
    image = np.asarray(page)
    boxes = detect_boxes(engine, image)
    first, *tiles = engine.detected_shapes
    assert max(first) <= DET_MAX_SIDE + 2 * MARGIN_MAX  # a first look at the whole page, reduced
    assert len(tiles) > 1 and all(max(shape) <= DET_TILE + 2 * MARGIN_MAX + 32 for shape in tiles)
    # Each line once, in the page's pixels around where it was drawn.
    assert len(boxes) == len(lines)
    for (x, y), box in zip(sorted(lines), sorted(boxes, key=lambda b: b[:, 0].min())):
        assert abs(box[:, 0].min() - x) <= 20 and y - 10 <= box[:, 1].mean() <= y + 40
