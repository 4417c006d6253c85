"""Bad uploads get a 4xx with a stable code and a human message, never a 200 or a 500."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from tests.api_support import assert_error
from tests.pages import encode, render_lines

URL = "/api/ocr/recognize"


def post(data: bytes | None, name="upload.png", **fields):
    payload = dict(fields)
    if data is not None:
        payload["file"] = SimpleUploadedFile(name, data)
    return APIClient().post(URL, payload, format="multipart")


@pytest.fixture(scope="module")
def png():
    return encode(render_lines(["测试"], face="sans"))


def test_unsupported_format_by_content_even_with_an_image_name():
    assert_error(post(b"GIF89a" + b"\x00" * 100, name="photo.jpg"), 415, "UNSUPPORTED_FORMAT")
    assert_error(post("纯文本，不是图片".encode(), name="scan.png"), 415, "UNSUPPORTED_FORMAT")


def test_empty_file():
    assert_error(post(b"", name="empty.png"), 400, "EMPTY_FILE")


def test_corrupt_image(png):
    assert_error(post(png[: len(png) // 3]), 400, "CORRUPT_IMAGE")
    assert_error(post(b"\xff\xd8\xff\xe0" + b"\x00" * 64, name="broken.jpg"), 400, "CORRUPT_IMAGE")


def test_corrupt_pdf():
    assert_error(post(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", name="x.pdf"), 400, "CORRUPT_IMAGE")


def encrypted_pdf() -> bytes:
    """A one-page PDF behind the Standard security handler whose password is not empty."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
               b"<< /Filter /Standard /V 1 /R 2 /O <" + b"41" * 32 + b"> /U <" + b"42" * 32 + b"> /P -4 >>"]
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, b"00" * 16, b"00" * 16, xref)
    return bytes(pdf)


def test_encrypted_pdf_has_its_own_code():
    body = assert_error(post(encrypted_pdf(), name="locked.pdf"), 400, "ENCRYPTED_PDF")
    assert "密码" in body["message"]


@override_settings(MAX_UPLOAD_SIZE=1000)
def test_file_too_large(png):
    assert len(png) > 1000
    body = assert_error(post(png), 413, "FILE_TOO_LARGE")
    assert body["max_bytes"] == 1000


@override_settings(MAX_UPLOAD_SIZE=1000)
def test_a_body_that_can_only_be_too_large_is_refused_before_it_is_read(monkeypatch):
    from django.http import multipartparser

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", must_not_parse)
    body = assert_error(post(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200_000), 413, "FILE_TOO_LARGE")
    assert body["max_bytes"] == 1000


def test_image_too_large_is_refused_before_decoding():
    # A 30000 x 30000 PNG compresses to a few hundred kilobytes and would decode to 2.7 GB.
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000), 1).save(buffer, "PNG")
    body = assert_error(post(buffer.getvalue()), 413, "IMAGE_TOO_LARGE")
    assert body["width"] == 30000


def test_missing_file_field():
    body = assert_error(post(None, lang="ch"), 400, "INVALID_PARAMETER")
    assert body["field"] == "file"


@pytest.mark.parametrize("field,value", [("lang", "klingon"), ("text_layout", "diagonal"),
                                         ("output_format", "poem"), ("use_angle_cls", "maybe"),
                                         ("return_details", "2")])
def test_invalid_parameter_names_the_field_and_allowed_values(png, field, value):
    body = assert_error(post(png, **{field: value}), 400, "INVALID_PARAMETER")
    assert body["field"] == field
    assert body["allowed"]
    assert field in body["message"]


def test_unknown_language_lists_the_available_ones(png):
    body = assert_error(post(png, lang="xx"), 400, "INVALID_PARAMETER")
    assert "ch" in body["allowed"] and "en" in body["allowed"]


@override_settings(OCR_ENGINE="nonexistent")
def test_engine_unavailable(png):
    assert_error(post(png), 503, "ENGINE_UNAVAILABLE")


@override_settings(MAX_PAGES_PER_FILE=1)
def test_too_many_pages():
    buffer = io.BytesIO()
    pages = [Image.new("RGB", (200, 100), "white") for _ in range(2)]
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    assert_error(post(buffer.getvalue(), name="two.tif"), 413, "TOO_MANY_PAGES")
    pdf = io.BytesIO()
    pages[0].save(pdf, "PDF", save_all=True, append_images=pages[1:])
    assert_error(post(pdf.getvalue(), name="two.pdf"), 413, "TOO_MANY_PAGES")
