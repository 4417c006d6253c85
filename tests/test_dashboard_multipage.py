"""Every page of a PDF or multi-page TIFF in the dashboard, with the boxes of that page: the page view of a
scanned file (a page switcher, ?fp=, the image of that page alone) and `/` (a preview of each page in the
answer of recognize/), on real files read by the engine; and a search query highlighted in the page view."""

import base64
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from batches import services
from batches.models import OcrResult
from tests.pages import render_lines

pytestmark = pytest.mark.django_db
PAGE_LINES = [["陈氏族谱卷一"], ["始祖陈德明公", "配林氏"]]


def two_pages(fmt: str) -> bytes:
    """A file of two pages of different sizes (so that the wrong page's boxes would not fit)."""
    first, second = (render_lines(lines, size=32, margin=30) for lines in PAGE_LINES)
    buffer = io.BytesIO()
    if fmt == "PDF":
        first.save(buffer, "PDF", save_all=True, append_images=[second], resolution=200)
    else:
        first.save(buffer, "TIFF", save_all=True, append_images=[second], compression="tiff_deflate")
    return buffer.getvalue()


@pytest.fixture
def logged_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("operator", password="pw-12345678", is_staff=True))
    return client


@pytest.fixture
def scanned(tmp_path, settings):
    """A task of one two-page TIFF, read by the engine in this process (what a worker does)."""
    root = tmp_path / "scans"
    (root / "book").mkdir(parents=True)
    (root / "book" / "001.tif").write_bytes(two_pages("TIFF"))
    settings.SCAN_ROOTS = [root.resolve()]
    task = services.task_create(book_id="多页", directory=str(root / "book"),
                                options=services.ScanOptions.from_raw({"text_layout": "horizontal"}), auto_start=False)
    services.task_start(task_id=task.task_id, send=False)
    task = services.task_run_inline(task_id=task.task_id)
    result = OcrResult.objects.get(task=task)
    assert result.success, result.error_message
    return task, result


def overlay_data(html: str) -> dict:
    import json

    return json.loads(re.search(r'<script id="overlay-data" type="application/json">(.*?)</script>', html, re.S)[1])


def test_page_view_switches_between_the_pages_of_a_tiff(logged_in, scanned):
    task, result = scanned
    url = f"/batch/tasks/{task.task_id}/pages/{result.page_id}"
    first = logged_in.get(url).content.decode()
    assert 'id="file-pages"' in first and 'data-file-page="2"' in first and 'data-file-page="3"' not in first
    assert [line["text"] for line in overlay_data(first)["details"]] == ["陈氏族谱卷一"]
    second = logged_in.get(url + "?fp=2").content.decode()
    data = overlay_data(second)
    assert [line["text"] for line in data["details"]] == PAGE_LINES[1]
    assert f'src="{url}/image?page=2"' in second
    # The image of page 2 alone, in the pixels its boxes were measured in.
    image = Image.open(io.BytesIO(logged_in.get(url + "/image?page=2").content))
    assert image.format == "PNG" and image.size == (data["width"], data["height"])
    assert Image.open(io.BytesIO(logged_in.get(url + "/image").content)).size != image.size
    assert logged_in.get(url + "/image?page=3").status_code == 404
    assert logged_in.get(url + "?fp=9").status_code == 200  # out of range: the last page


def test_page_view_highlights_the_lines_of_a_search_query(logged_in, scanned):
    task, result = scanned
    html = logged_in.get(f"/batch/tasks/{task.task_id}/pages/{result.page_id}?fp=2&q=陳德&line=1").content.decode()
    assert '<tr id="line-1" class=" hit focus">' in html and "始祖<mark>陈德</mark>明公" in html
    details = overlay_data(html)["details"]
    assert [(line["hit"], line["focus"]) for line in details] == [(True, True), (False, False)]
    assert "本页 1 行含此文字" in html
    # The search page finds it and links to that page of the file, that line.
    found = logged_in.get("/batch/search", {"q": "德明"}).content.decode()
    link = f"/batch/tasks/{task.task_id}/pages/{result.page_id}?q=%E5%BE%B7%E6%98%8E&amp;fp=2&amp;line=1#line-1"
    assert link in found
    assert "始祖陈<mark>德明</mark>公" in found and "文件第 2 页" in found


@pytest.mark.parametrize("fmt", ["PDF", "TIFF"])
def test_recognize_returns_a_preview_of_every_page(logged_in, fmt):
    upload = SimpleUploadedFile(f"two.{fmt.lower()}", two_pages(fmt))
    body = logged_in.post("/recognize/", {"file": upload, "text_layout": "horizontal", "output_format": "line_by_line",
                                          "use_angle_cls": "true"}).json()
    assert body["success"] is True and len(body["pages"]) == 2 and len(body["previews"]) == 2
    for page, preview, lines in zip(body["pages"], body["previews"], PAGE_LINES):
        assert [detail["text"] for detail in page["details"]] == lines
        image = Image.open(io.BytesIO(base64.b64decode(preview.split(",", 1)[1])))
        assert image.format == "JPEG"
        # Shrunk at most, never cropped: the page's proportions, so that its boxes fit.
        assert abs(image.size[0] / image.size[1] - page["width"] / page["height"]) < 0.02


def test_recognize_sends_no_preview_for_an_image_the_browser_shows(logged_in):
    buffer = io.BytesIO()
    render_lines(["族谱"], size=32, margin=30).save(buffer, "PNG")
    body = logged_in.post("/recognize/", {"file": SimpleUploadedFile("one.png", buffer.getvalue()),
                                          "use_angle_cls": "true"}).json()
    assert body["success"] is True and "previews" not in body
