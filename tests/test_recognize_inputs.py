"""Every supported input kind reaches the engine as the page a person sees: format by content, EXIF
rotation, transparency, grayscale and 16-bit, every page of TIFF and PDF."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from tests.pages import encode, render_lines

TEXT = "海内存知己天涯若比邻"


@pytest.fixture(scope="module")
def page():
    return render_lines([TEXT], face="serif")


def recognize(data: bytes, name="upload.bin", **fields):
    response = APIClient().post("/api/ocr/recognize", {"file": SimpleUploadedFile(name, data), **fields},
                                format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("fmt,options", [("JPEG", {"quality": 90}), ("PNG", {}), ("BMP", {}), ("WEBP", {"quality": 90}),
                                         ("TIFF", {})])
def test_each_raster_format_is_read(page, fmt, options):
    # The misleading name proves the type is taken from the content.
    assert recognize(encode(page, fmt, **options), name="scan.txt")["text"] == TEXT


def test_exif_orientation_is_applied_and_boxes_are_in_the_displayed_image(page):
    stored = page.rotate(90, expand=True)  # stored sideways, EXIF says: rotate back when displaying
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation 6: display rotated 90 degrees clockwise
    body = recognize(encode(stored, "JPEG", quality=92, exif=exif.tobytes()))
    assert body["text"] == TEXT
    assert (body["width"], body["height"]) == page.size
    (x0, _), (x1, _), _, _ = body["details"][0]["box"]
    assert x1 - x0 > page.width / 2  # a horizontal line across the displayed page


def test_transparency_is_flattened_onto_white(page):
    # Black text on a fully transparent background: as RGB without flattening it would be all black.
    alpha = 255 - np.asarray(page.convert("L"))
    transparent = Image.new("RGBA", page.size, (0, 0, 0, 0))
    transparent.putalpha(Image.fromarray(alpha))
    assert recognize(encode(transparent, "PNG"))["text"] == TEXT


def test_grayscale_and_16_bit_images(page):
    assert recognize(encode(page.convert("L"), "PNG"))["text"] == TEXT
    sixteen = Image.fromarray(np.asarray(page.convert("L")).astype(np.uint16) * 257)
    assert sixteen.mode.startswith("I;16")
    assert recognize(encode(sixteen, "PNG"))["text"] == TEXT


def test_every_page_of_a_multipage_tiff():
    first, second = render_lines(["第一页的文字"], face="sans"), render_lines(["第二页的文字"], face="sans")
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[second])
    body = recognize(buffer.getvalue())
    assert [p["text"] for p in body["pages"]] == ["第一页的文字", "第二页的文字"]
    assert body["text"] == "第一页的文字\n\n第二页的文字"
    assert [d["page"] for d in body["details"]] == [1, 2]


def test_every_page_of_a_pdf():
    first, second = render_lines(["白日依山尽"], face="serif"), render_lines(["黄河入海流"], face="serif")
    buffer = io.BytesIO()
    first.save(buffer, "PDF", save_all=True, append_images=[second], resolution=150)
    body = recognize(buffer.getvalue(), name="book.pdf")
    assert body["text"] == "白日依山尽\n\n黄河入海流"
    assert len(body["pages"]) == 2
