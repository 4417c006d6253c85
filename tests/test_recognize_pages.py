"""Issue 9: every page category of the pipeline, rendered, posted over HTTP and checked for text AND order.

Turned pages, multi-column pages, genealogy registers (上下栏), double-line annotations (双行小注), word crops,
single lines, a tall single column, transparent PNGs, a large scan, noisy scans and a receipt. Every request
is sent without text_layout (the default, `auto`, as the seed's clients send). The pages are built as
bench/pipeline_set.py builds its categories, from the same text pools.
"""

import random

import pytest
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from bench.pipeline_set import CJK_WORDS, GENEALOGY_POOL, LATIN_WORDS, annotated_page, chunk_chinese, \
    chunk_english, register_page, split_evenly
from bench.run_engines import ENGLISH, NEWS
from tests import pages
from tests.textmetrics import cer, normalise

URL = "/api/ocr/recognize"


@pytest.fixture(scope="module")
def client():
    return APIClient()


def post(client, image: Image.Image, fmt: str = "PNG", **fields) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    name = "page.jpg" if fmt == "JPEG" else "page.png"
    options = {"quality": 90} if fmt == "JPEG" else {}
    upload = SimpleUploadedFile(name, pages.encode(image, fmt, **options))
    response = client.post(URL, {"file": upload, **fields}, format="multipart")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["success"] is True, body
    return body


def assert_exact(body: dict, expected: list[str]) -> None:
    """The text, normalised, is the expected lines run together in reading order."""
    assert normalise(body["text"]) == normalise("".join(expected)), (body["text"], expected)


def positions_in_order(text: str, expected: list[str], probe: int = 4) -> list[int]:
    """Where each expected line starts in the normalised text (its first `probe` characters, searched after
    the previous line's start); -1 where one is missing."""
    text = normalise(text)
    found, start = [], 0
    for line in expected:
        index = text.find(normalise(line)[:probe], start)
        found.append(index)
        if index >= 0:
            start = index + 1
    return found


def assert_close_and_in_order(body: dict, expected: list[str], bound: float, probe: int = 4) -> None:
    """Character error rate at most `bound` and every line's opening found after the previous line's."""
    error = cer(body["text"], "".join(expected))
    assert error <= bound, (error, body["text"], expected)
    found = positions_in_order(body["text"], expected, probe)
    assert -1 not in found and found == sorted(found), (found, body["text"], expected)


def assert_boxes_inside(body: dict) -> None:
    assert body["details"], body
    for detail in body["details"]:
        assert len(detail["box"]) == 4
        assert all(0 <= x <= body["width"] and 0 <= y <= body["height"] for x, y in detail["box"]), detail


def centre(box) -> tuple[float, float]:
    return sum(x for x, _ in box) / 4, sum(y for _, y in box) / 4


# --- Turned pages ------------------------------------------------------------------------------------------

rotation_rng = random.Random(902)
UPRIGHT = {
    "zh": (lambda lines: pages.render_lines(lines, face="serif", size=30, margin=50), rotation_rng.sample(NEWS, 5)),
    # Six lines: the page is under 3:1, the shape the page orientation classifier is consulted for (see
    # test_wide_sideways_english_page_reports_its_rotation for a wider one).
    "en": (lambda lines: pages.render_lines(lines, face="latin", size=28, margin=50), rotation_rng.sample(ENGLISH, 6)),
    "vertical": (lambda lines: pages.render_vertical_rl(lines, face="kai", size=44, margin=50),
                 rotation_rng.sample(GENEALOGY_POOL, 5)),
}


def upright_point(x: float, y: float, degrees: int, width: int, height: int) -> tuple[float, float]:
    """A point of a page turned `degrees` counter-clockwise (sent as width × height) in the upright page."""
    if degrees == 90:
        return height - y, x
    if degrees == 270:
        return y, width - x
    return width - x, height - y


@pytest.mark.parametrize("kind", list(UPRIGHT))
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_turned_page_is_read_upright_in_order_with_boxes_in_the_sent_image(client, kind, degrees):
    render, lines = UPRIGHT[kind]
    upright = render(lines)
    sent = pages.rotate_page(upright, degrees)
    body = post(client, sent)
    assert body["text"].split("\n") == lines, (body["text"], lines)
    assert body["rotation"] == (360 - degrees) % 360
    assert (body["width"], body["height"]) == sent.size
    assert_boxes_inside(body)
    # Mapped back into the upright page, the lines come in reading order: top to bottom on a horizontal
    # page, right to left on the vertical one. So the first detail is where the first line is in the sent
    # image: at its left edge for a horizontal page turned 90°, at its bottom turned 180°, at its right
    # edge turned 270°.
    centres = [upright_point(*centre(detail["box"]), degrees, *sent.size) for detail in body["details"]]
    if kind == "vertical":
        across = [-u for u, _ in centres]
    else:
        across = [v for _, v in centres]
    assert across == sorted(across), centres
    first_x, first_y = centre(body["details"][0]["box"])
    if kind != "vertical":
        where = {90: first_x < sent.width / 3, 180: first_y > sent.height * 2 / 3, 270: first_x > sent.width * 2 / 3}
        assert where[degrees], (degrees, first_x, first_y, sent.size)


def test_detect_orientation_false_does_not_turn_a_sideways_page(client):
    render, lines = UPRIGHT["en"]
    sent = pages.rotate_page(render(lines), 90)
    turned = post(client, sent)
    assert turned["text"].split("\n") == lines and turned["rotation"] == 270
    # Without the page turn only the 0/180 line vote is left. (The text itself still comes out in order:
    # the tall line crops are read turned and the sideways lines ordered as columns.)
    body = post(client, sent, detect_orientation="false")
    assert body["rotation"] in (0, 180), body["rotation"]


@pytest.mark.parametrize("turned_by", [90, 270])
def test_wide_sideways_english_page_reports_its_rotation(client, turned_by):
    lines = random.Random(902).sample(ENGLISH, 4)
    upright = pages.render_lines(lines, face="latin", size=28, margin=50)
    assert upright.width > 3 * upright.height  # 868 x 278, an ordinary four-line screenshot
    body = post(client, pages.rotate_page(upright, turned_by))
    assert body["text"].split("\n") == lines, body["text"]
    assert body["rotation"] == 360 - turned_by


# --- Multi-column pages ------------------------------------------------------------------------------------

def column_pages() -> dict:
    """As bench/pipeline_set.add_columns: Chinese and English, 2 and 3 columns, a spanning heading on each,
    a footer on the two-column Chinese and the three-column English page."""
    rng = random.Random(903)
    result = {}
    for count in (2, 3):
        zh_lines = chunk_chinese(rng.sample(NEWS, 2 * count + 1), 13 if count == 2 else 11)
        footer = "图一：本期要闻摘要，编辑部整理供稿" if count == 2 else None
        result[f"zh{count}"] = pages.render_columns(split_evenly(zh_lines, count),
                                                    ["古城遗址考古新发现", "本市公共服务简报"][count - 2], footer,
                                                    face="serif", size=30)
        en_lines = chunk_english(rng.sample(ENGLISH, 2 * count), 30 if count == 2 else 24)
        footer = None if count == 2 else "Figure 1. Visitors to the reading rooms by month."
        result[f"en{count}"] = pages.render_columns(split_evenly(en_lines, count),
                                                    ["Library Newsletter", "Notes from the Archive"][count - 2],
                                                    footer, face="latin", size=26)
    return result


COLUMN_PAGES = column_pages()


@pytest.mark.parametrize("name", list(COLUMN_PAGES))
def test_multi_column_page_reads_heading_columns_then_footer(client, name):
    image, lines = COLUMN_PAGES[name]
    body = post(client, image)
    assert body["text"].split("\n") == lines, (body["text"], lines)


def test_column_by_column_gives_one_line_per_visual_line_of_each_column(client):
    image, lines = COLUMN_PAGES["zh2"]
    body = post(client, image, output_format="column_by_column")
    assert [normalise(line) for line in body["text"].split("\n")] == [normalise(line) for line in lines], \
        (body["text"], lines)


# --- Vertical genealogy: registers, annotations, a single tall column ---------------------------------------

@pytest.mark.parametrize("count, seed, face, size", [(2, 904, "kai", 36), (3, 905, "ming", 56)])
def test_genealogy_registers_are_read_register_by_register_right_to_left(client, count, seed, face, size):
    image, lines = register_page(random.Random(seed), count, face, size)
    body = post(client, image)
    assert body["text"].split("\n") == lines, (body["text"], lines)
    assert body["rotation"] == 0


def test_double_line_annotations_follow_their_column_right_then_left(client):
    image, lines = annotated_page(random.Random(906), "kai", 64)
    assert len(lines) > 5  # at least one column carries an annotation
    body = post(client, image)
    assert_exact(body, lines)
    assert body["text"].split("\n") == lines, (body["text"], lines)


def test_single_tall_column_of_large_characters_is_read_top_to_bottom(client):
    column = GENEALOGY_POOL[0][:10]
    image = pages.render_vertical_rl([column], face="kai", size=150, margin=20, column_gap=0.5)
    assert image.height > 6 * image.width
    body = post(client, image)
    assert body["text"] == column
    assert body["rotation"] == 0


# --- Word crops and single lines ---------------------------------------------------------------------------

HEIGHTS = [20, 28, 36, 48, 64, 80, 100]
BACKGROUNDS = ["photo", "photo", "gradient", "paper"]
WORDS = CJK_WORDS + LATIN_WORDS[:2]


@pytest.mark.parametrize("number, word", list(enumerate(WORDS)))
def test_tight_word_crop_is_read_exactly(client, number, word):
    image, lines = pages.render_word_crop(word, HEIGHTS[number % len(HEIGHTS)],
                                          BACKGROUNDS[number % len(BACKGROUNDS)], seed=number)
    body = post(client, image)
    assert body["text"] == word, (body["text"], word, image.size)
    assert_boxes_inside(body)


def test_single_line_256_by_32_is_read_whole(client):
    image, lines = pages.render_single_line("Hello world!你好世界", 32, width=256)
    assert image.size == (256, 32)
    body = post(client, image)
    assert normalise(body["text"]) == normalise("Hello world!你好世界"), body["text"]
    assert body["text"].replace(" ", "").startswith("Helloworld!")
    assert_boxes_inside(body)


# --- Transparency, large scans, noisy scans ---------------------------------------------------------------

def test_white_chinese_text_on_transparent_png(client):
    image, lines = pages.render_transparent_text(random.Random(907).sample(NEWS, 3), size=36)
    assert image.mode == "RGBA"
    assert post(client, image)["text"].split("\n") == lines


def test_dark_text_on_transparent_png(client):
    image, lines = pages.render_transparent_text(random.Random(908).sample(NEWS, 3), size=40, color=(20, 20, 60))
    assert post(client, image)["text"].split("\n") == lines


@pytest.mark.slow
def test_large_scan_with_nine_point_text(client):
    rng = random.Random(909)
    blocks = [chunk_chinese(rng.sample(NEWS, 6), 26)[:5] for _ in range(5)]
    image, lines = pages.render_large_scan(blocks, face="serif", size=38, seed=1)
    assert image.size == (6000, 8000)
    body = post(client, image, fmt="JPEG")
    assert (body["width"], body["height"]) == (6000, 8000)
    assert_close_and_in_order(body, lines, 0.01)
    assert_boxes_inside(body)


def test_noisy_skewed_horizontal_scan(client):
    lines = random.Random(910).sample(NEWS, 5)
    image = pages.scanned(pages.render_lines(lines, face="sans", size=30, margin=50), seed=0, angle=1.5)
    body = post(client, image, fmt="JPEG")
    assert_close_and_in_order(body, lines, 0.02)
    assert len(body["text"].split("\n")) == len(lines), body["text"]


def test_noisy_skewed_vertical_scan_is_read_right_to_left(client):
    lines = random.Random(911).sample(GENEALOGY_POOL, 6)
    image = pages.scanned(pages.render_vertical_rl(lines, face="kai", size=40, margin=50), seed=1, angle=-1.0)
    body = post(client, image, fmt="JPEG")
    assert_close_and_in_order(body, lines, 0.02)
    assert len(body["text"].split("\n")) == len(lines), body["text"]


# --- A receipt: cells far apart on one row are a row, not columns ------------------------------------------

RECEIPT = [
    ["品名", "数量", "单价", "金额"],
    ["苹果", "2斤", "5.50", "11.00"],
    ["牛奶", "1箱", "48.00", "48.00"],
    ["面包", "3个", "6.00", "18.00"],
    ["鸡蛋", "1盒", "15.80", "15.80"],
    ["合计", "4件", "", "92.80"],
]


def render_receipt(rows: list[list[str]], size: int = 36, cell_width: int = 320, margin: int = 60) -> Image.Image:
    """One `draw.text` per cell, cells `cell_width` apart (several text heights of white between them)."""
    typeface = pages.font("sans", size)
    step = int(size * 1.8)
    image = Image.new("RGB", (2 * margin + cell_width * (len(rows[0]) - 1) + 4 * size, 2 * margin + step * len(rows)),
                      "white")
    draw = ImageDraw.Draw(image)
    for row, cells in enumerate(rows):
        for column, cell in enumerate(cells):
            if cell:
                draw.text((margin + column * cell_width, margin + row * step), cell, font=typeface, fill="black")
    return image


def test_receipt_cells_far_apart_are_read_row_by_row(client):
    body = post(client, render_receipt(RECEIPT))
    cells = [cell for row in RECEIPT for cell in row if cell]
    assert body["text"].split("\n") == cells, body["text"]
    rows = post(client, render_receipt(RECEIPT), output_format="column_by_column")["text"].split("\n")
    assert [normalise(row) for row in rows] == [normalise("".join(row)) for row in RECEIPT], rows
