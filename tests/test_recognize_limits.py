"""Bounded work per request: PDF pages rendered within PDF_MAX_PAGE_PIXELS, the pixels of a whole request
within MAX_REQUEST_PIXELS (refused before any engine work), time limits per request and per page, decoding
under the engine's lock, and Pillow's bomb guard on at the service's limit."""

import io

import numpy as np
import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from recognition import errors, services, views
from recognition.engines import engine_for
from recognition.pipeline import BoundedEngine, Deadline
from recognition.pipeline.decode import page_sizes
from tests.api_support import assert_error
from tests.pages import encode, font, render_lines

URL = "/api/ocr/recognize"
BATCH_URL = "/api/ocr/recognize-batch"
TITLE = "李氏族谱第一卷"


def post(data: bytes, name="upload.png", **fields):
    return APIClient().post(URL, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def post_batch(files: list[tuple[str, bytes]]):
    return APIClient().post(BATCH_URL, {"files": [SimpleUploadedFile(name, data) for name, data in files]},
                            format="multipart")


def huge_page_pdf(pages: int = 1, width_pt: float = 14400) -> bytes:
    """PDF pages `width_pt` wide (14400 pt, 200 inches, is the most PDF allows) holding one line of text: a
    few kilobytes that render to 640 million pixels a page at 200 dpi."""
    image = render_lines([TITLE], size=40)
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=image.width * 72 / width_pt, save_all=True,
               append_images=[image] * (pages - 1))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def png():
    return encode(render_lines([TITLE, "光绪三十年重修"], size=40))


@pytest.fixture
def nothing_rendered(monkeypatch):
    def must_not_render(*args, **kwargs):
        raise AssertionError("a PDF page was rendered")

    monkeypatch.setattr(pypdfium2.PdfPage, "render", must_not_render)


@override_settings(PDF_MAX_PAGE_PIXELS=4_000_000)
def test_a_huge_pdf_page_is_rendered_within_the_page_budget_and_read():
    data = huge_page_pdf()
    [(width, height)] = page_sizes(data)
    assert width * height <= 4_000_000 and width / height == pytest.approx(14400 / 5760, rel=0.01)
    response = post(data, name="poster.pdf")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (width, height)
    assert TITLE in body["text"].replace(" ", "")


def test_a_pdf_page_too_thin_to_read_once_shrunk_into_the_budget_is_refused(nothing_rendered):
    # 100 million by 100 points: within 20 million pixels it would be 4 pixels high.
    pdf = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
           b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
           b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100000000 100] >> endobj\n"
           b"trailer << /Root 1 0 R >>\n%%EOF\n")
    body = assert_error(post(pdf, name="ribbon.pdf"), 413, "IMAGE_TOO_LARGE")
    assert body["height"] == 278 and body["max_pixels"] == 20_000_000


@override_settings(MAX_REQUEST_PIXELS=50_000_000)
def test_pdf_pages_over_the_request_budget_are_refused_before_any_page_is_rendered(nothing_rendered):
    # The probe's file: 10 pages of 14400 pt, 20 million pixels each once capped, 200 million in all.
    body = assert_error(post(huge_page_pdf(pages=10), name="posters.pdf"), 413, "TOO_MANY_PIXELS")
    assert body["max_pixels"] == 50_000_000
    assert body["pixels"] == 10 * np.prod(page_sizes(huge_page_pdf())[0])


def test_the_request_budget_is_summed_over_the_files_of_a_batch(png, settings):
    with Image.open(io.BytesIO(png)) as image:
        pixels = image.width * image.height
    settings.MAX_REQUEST_PIXELS = int(pixels * 1.5)
    response = post_batch([("one.png", png)])
    assert response.status_code == 200 and response.json()[0]["success"], response.content
    body = assert_error(post_batch([("one.png", png), ("two.png", png)]), 413, "TOO_MANY_PIXELS")
    assert body["pixels"] == 2 * pixels


def test_a_page_over_its_time_limit_fails_its_file_and_the_service_goes_on(png, settings):
    settings.OCR_PAGE_TIMEOUT = 1e-9
    body = assert_error(post(png), 413, "OCR_TIMEOUT")
    assert body["timeout_seconds"] == 1e-9
    assert "OCR_PAGE_TIMEOUT" in body["message"]
    # In a batch only the files fail, each in its place.
    response = post_batch([("one.png", png), ("two.png", png)])
    assert response.status_code == 200
    assert [(item["file_name"], item["success"], item["error"]) for item in response.json()] == [
        ("one.png", False, "OCR_TIMEOUT"), ("two.png", False, "OCR_TIMEOUT")]
    settings.OCR_PAGE_TIMEOUT = 60
    response = post(png)
    assert response.status_code == 200 and TITLE in response.json()["text"]


def test_a_request_over_its_time_limit_fails_whole(png, settings):
    settings.OCR_REQUEST_TIMEOUT = 1e-9
    body = assert_error(post_batch([("one.png", png), ("two.png", png)]), 413, "OCR_TIMEOUT")
    assert "OCR_REQUEST_TIMEOUT" in body["message"]
    assert "details" not in body and "text" not in body


def test_the_deadline_stops_between_line_batches_and_batching_changes_no_reading():
    engine = engine_for("ch").engines[0].engine
    typeface = font("sans", 32)
    words = ["李氏族谱", "光绪三十年", "卷之一", "Hello 2024", "世系图第十页"]
    crops = []
    for number in range(BoundedEngine.RECOGNITION_BATCH + 20):
        text = words[number % len(words)] + str(number)
        crop = Image.new("RGB", (typeface.getbbox(text)[2] + 16, 48), "white")
        ImageDraw.Draw(crop).text((8, 4), text, font=typeface, fill="black")
        crops.append(np.asarray(crop))
    unbounded = engine.recognize(crops)
    assert BoundedEngine(engine, Deadline(0, 0)).recognize(crops) == unbounded

    calls = []

    class CountingDeadline(Deadline):
        def check(self):
            calls.append(len(calls))
            if len(calls) > 1:
                raise errors.PageTimeout("test")

    with pytest.raises(errors.PageTimeout):
        BoundedEngine(engine, CountingDeadline(0, 0)).recognize(crops)
    assert len(calls) == 2  # the first batch ran, the second was stopped before it started


def test_upload_bytes_are_read_and_decoded_with_an_engine_checked_out(png, monkeypatch):
    (loaded,) = engine_for("ch").engines  # one engine per process outside the start commands
    lock = loaded.lock
    held = []

    def spy(name, function):
        def wrapper(*args, **kwargs):
            held.append((name, lock.locked()))
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(views, "read_upload", spy("read", views.read_upload))
    monkeypatch.setattr(services, "page_sizes", spy("measure", services.page_sizes))
    monkeypatch.setattr(services, "iter_pages", spy("decode", services.iter_pages))
    response = post_batch([("one.png", png), ("two.png", png)])
    assert response.status_code == 200 and all(item["success"] for item in response.json())
    assert {name for name, _ in held} == {"read", "measure", "decode"}
    assert all(locked for _, locked in held), held


def test_pillow_guard_is_on_at_the_service_limit(settings):
    assert Image.MAX_IMAGE_PIXELS == settings.MAX_IMAGE_PIXELS
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000), 1).save(buffer, "PNG")
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(buffer.getvalue()))


@override_settings(MAX_IMAGE_PIXELS=1_000_000)
@pytest.mark.parametrize("fmt,size", [("PNG", (1200, 1000)), ("PNG", (3000, 1000)), ("WEBP", (1200, 1000)),
                                      ("WEBP", (3000, 1000)), ("TIFF", (3000, 1000))],
                         ids=["png-warned", "png-refused", "webp-warned", "webp-refused", "tiff-refused"])
def test_images_pillow_refuses_are_image_too_large_with_their_size(fmt, size):
    assert Image.MAX_IMAGE_PIXELS == 1_000_000
    body = assert_error(post(encode(Image.new("RGB", size, "white"), fmt)), 413, "IMAGE_TOO_LARGE")
    assert (body["width"], body["height"], body["max_pixels"]) == (*size, 1_000_000)
