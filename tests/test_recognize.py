"""POST /api/ocr/recognize: real pages rendered with real fonts, read by the real engine."""

import pytest
from rest_framework.test import APIClient

from tests.pages import encode, render_lines, render_vertical_rl

URL = "/api/ocr/recognize"
GENEALOGY_COLUMNS = ["李氏族谱卷一", "始祖諱德明公", "生於明洪武年間"]


@pytest.fixture(scope="module")
def client():
    return APIClient()


@pytest.fixture(scope="module")
def seed_page():
    return encode(render_lines(["李氏族谱第一卷", "Hello PaddleOCR 2024"], face="serif"))


@pytest.fixture(scope="module")
def genealogy_page():
    return encode(render_vertical_rl(GENEALOGY_COLUMNS, face="kai", ruled=True))


def post(client, data: bytes, name="page.png", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(URL, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def test_chinese_and_english_lines_in_order_with_details(client, seed_page):
    response = post(client, seed_page, lang="ch", use_angle_cls="true")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["error"] is None
    assert body["text"] == "李氏族谱第一卷\nHello PaddleOCR 2024"
    assert [d["text"] for d in body["details"]] == ["李氏族谱第一卷", "Hello PaddleOCR 2024"]
    for detail in body["details"]:
        assert 0.8 < detail["confidence"] <= 1.0
        assert len(detail["box"]) == 4
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = detail["box"]
        assert x0 < x1 and y1 < y2 and x3 < x2 and y0 < y3  # clockwise from the top-left
        assert all(0 <= x <= body["width"] and 0 <= y <= body["height"] for x, y in detail["box"])
    assert body["details"][0]["box"][0][1] < body["details"][1]["box"][0][1]
    assert body["processing_time"] > 0


def test_return_details_false_gives_null_details(client, seed_page):
    body = post(client, seed_page, return_details="false").json()
    assert body["details"] is None
    assert body["text"] == "李氏族谱第一卷\nHello PaddleOCR 2024"


def test_vertical_genealogy_page_reads_columns_right_to_left(client, genealogy_page):
    body = post(client, genealogy_page, text_layout="vertical_rl").json()
    assert body["text"].split("\n") == GENEALOGY_COLUMNS
    xs = [d["box"][0][0] for d in body["details"]]
    assert xs == sorted(xs, reverse=True)


def test_vertical_lr_reads_the_same_columns_left_to_right(client, genealogy_page):
    body = post(client, genealogy_page, text_layout="vertical_lr").json()
    assert body["text"].split("\n") == GENEALOGY_COLUMNS[::-1]


def test_char_by_char_runs_the_text_together_keeping_latin_spaces(client, seed_page):
    body = post(client, seed_page, output_format="char_by_char").json()
    assert body["text"] == "李氏族谱第一卷Hello PaddleOCR 2024"


def test_column_by_column_joins_boxes_of_one_visual_line(client):
    # Two phrases far apart on one line are detected as two boxes; the format joins them.
    page = render_lines(["合计金额" + " " * 30 + "Total 128.50"], face="sans")
    body = post(client, encode(page), output_format="column_by_column").json()
    assert len(body["details"]) == 2
    assert body["text"] == "合计金额Total 128.50"
    lines = post(client, encode(page), output_format="line_by_line").json()["text"]
    assert lines == "合计金额\nTotal 128.50"


def test_upside_down_page_is_read_in_its_own_order(client):
    page = render_lines(["第一行文字内容", "第二行文字内容", "第三行文字内容"], face="serif").rotate(180)
    body = post(client, encode(page)).json()
    assert body["text"] == "第一行文字内容\n第二行文字内容\n第三行文字内容"


def test_english_only_with_lang_en(client):
    page = render_lines(["The quick brown fox jumps over", "the lazy dog near the river bank."], face="latin")
    body = post(client, encode(page), lang="en").json()
    assert body["text"] == "The quick brown fox jumps over\nthe lazy dog near the river bank."


def test_a_page_without_text_succeeds_with_empty_text(client):
    from PIL import Image

    body = post(client, encode(Image.new("RGB", (300, 200), "white"))).json()
    assert body["success"] is True
    assert body["text"] == "" and body["details"] == []


def test_auto_layout_recognises_a_genealogy_page_and_a_horizontal_page(client, genealogy_page, seed_page):
    assert post(client, genealogy_page, text_layout="auto").json()["text"].split("\n") == GENEALOGY_COLUMNS
    assert post(client, seed_page, text_layout="auto").json()["text"] == "李氏族谱第一卷\nHello PaddleOCR 2024"
