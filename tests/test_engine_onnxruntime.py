"""The onnxruntime engine, through the page pipeline, reads rendered pages whose text is known: Chinese,
English, a vertical right-to-left genealogy page and an upside-down page, with boxes inside the image and
the page's rotation."""

import numpy as np
import pytest

from recognition.engines.models import find_model
from recognition.engines.onnxruntime_engine import OnnxRuntimeEngine
from recognition.pipeline import PageOptions, PageReading, read_page
from tests.pages import render_lines, render_vertical_rl
from tests.textmetrics import cer, normalise

CHINESE = ["白日依山尽，黄河入海流。", "欲穷千里目，更上一层楼。"]
ENGLISH = ["The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs."]
GENEALOGY = ["第十六世祖文華", "字光遠號竹溪", "生於嘉慶二十年"]


def read(engine, image: np.ndarray, **options) -> PageReading:
    return read_page(engine, image, PageOptions(**options))


def reading_text(reading: PageReading) -> str:
    """The page's lines in reading order."""
    return "".join(line.text for group in reading.groups for line in group)


def reading_lines(reading: PageReading) -> list:
    return [line for group in reading.groups for line in group]


def assert_boxes_inside(reading: PageReading, image: np.ndarray) -> None:
    height, width = image.shape[:2]
    assert reading.groups
    for line in reading_lines(reading):
        assert len(line.box) == 4
        for x, y in line.box:
            assert 0 <= x <= width and 0 <= y <= height, (line.box, width, height)
        top_left, top_right, bottom_right, bottom_left = line.box
        # Clockwise from the top left: right of it, then below.
        assert top_right[0] > top_left[0] and bottom_left[1] > top_left[1], line.box
        assert 0.0 <= line.confidence <= 1.0


@pytest.fixture(scope="module")
def engine():
    return OnnxRuntimeEngine(find_model("PP-OCRv6_small"), threads=2, use_gpu=False)


def test_cer_helper_counts_edits():
    assert cer("白日依山尽", "白日依山尽") == 0.0
    assert cer("白日依山", "白日依山尽") == pytest.approx(0.2)
    assert cer("ＡＢＣ １２", "ABC12") == 0.0  # NFKC, whitespace removed
    assert cer("", "abc") == 1.0
    assert normalise(" a b\n c ") == "abc"


def test_reads_chinese_lines_exactly(engine):
    image = np.asarray(render_lines(CHINESE, face="serif"))
    reading = read(engine, image)
    assert reading.rotation == 0
    assert normalise(reading_text(reading)) == normalise("".join(CHINESE))
    assert_boxes_inside(reading, image)


def test_reads_english_lines(engine):
    image = np.asarray(render_lines(ENGLISH, face="latin", size=32))
    reading = read(engine, image)
    # The page vote keeps long English lines upright where per-line flips would turn some over.
    assert reading.rotation == 0
    assert cer(reading_text(reading), "".join(ENGLISH)) <= 0.03
    assert_boxes_inside(reading, image)


def test_reads_vertical_right_to_left_columns(engine):
    image = np.asarray(render_vertical_rl(GENEALOGY, face="kai", size=40, ruled=True))
    reading = read(engine, image, text_layout="vertical_rl")
    assert len(reading_lines(reading)) == len(GENEALOGY)
    assert cer(reading_text(reading), "".join(GENEALOGY)) <= 0.05
    for line in reading_lines(reading):  # each column is one tall box
        (x0, y0), _, (x2, y2), _ = line.box
        assert y2 - y0 > 3 * (x2 - x0)
    assert_boxes_inside(reading, image)


def test_upside_down_page_is_turned_and_read(engine):
    upright = render_lines(CHINESE, face="serif")
    image = np.asarray(upright.rotate(180))
    reading = read(engine, image)
    assert reading.rotation == 180
    assert normalise(reading_text(reading)) == normalise("".join(CHINESE))
    assert_boxes_inside(reading, image)
    # With both orientation stages off the page is taken as upright (and read as garbage).
    assert read(engine, image, detect_orientation=False, use_angle_cls=False).rotation == 0


def test_line_classifier_alone_settles_an_upside_down_page(engine):
    image = np.asarray(render_lines(CHINESE, face="serif").rotate(180))
    reading = read(engine, image, detect_orientation=False)
    assert reading.rotation == 180
    assert normalise(reading_text(reading)) == normalise("".join(CHINESE))


def test_blank_page_has_no_lines(engine):
    assert read(engine, np.full((200, 300, 3), 255, dtype=np.uint8)).groups == []


@pytest.mark.parametrize("model", ["PP-OCRv5_mobile", "PP-OCRv6_tiny"])
def test_other_packaged_models_load_and_read(model):
    spec = find_model(model)
    assert spec.installed
    engine = OnnxRuntimeEngine(spec, threads=2, use_gpu=False)
    image = np.asarray(render_lines(CHINESE, face="serif"))
    reading = read(engine, image)
    assert reading.rotation == 0
    assert cer(reading_text(reading), "".join(CHINESE)) <= 0.1
    assert_boxes_inside(reading, image)
