"""Request bodies within bounds, answered with the API's coded JSON: JSON bodies by bytes (before they are
read), depth and items; multipart forms by fields, files, field bytes and the whole body."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from tests.api_support import assert_error
from tests.pages import encode, render_lines

SCAN_URL = "/api/ocr/batch/scan"
URL = "/api/ocr/recognize"
BATCH_URL = "/api/ocr/recognize-batch"

pytestmark = pytest.mark.django_db


def post_json(body: bytes, **extra):
    return APIClient().generic("POST", SCAN_URL, body, content_type="application/json", **extra)


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_json_body_over_the_limit_is_refused_from_its_length_without_being_read(settings):
    # The probe's bodies: 54 MB of file_patterns, 64 MB of unknown keys.
    body = assert_error(post_json(b"", CONTENT_LENGTH=str(54 * 1024 * 1024), **{"wsgi.input": Unreadable()}),
                        413, "REQUEST_TOO_LARGE")
    assert body["max_bytes"] == settings.MAX_JSON_BODY_SIZE


@override_settings(MAX_JSON_BODY_SIZE=1000)
def test_a_json_body_over_the_limit_is_refused():
    patterns = json.dumps({"book_id": "b", "directory": "d", "file_patterns": ["*.png"] * 200}).encode()
    assert len(patterns) > 1000
    assert_error(post_json(patterns), 413, "REQUEST_TOO_LARGE")


def nested(depth: int) -> bytes:
    return b'{"book_id": "b", "extra": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_json_nested_deeper_than_the_limit_is_an_invalid_body(settings):
    body = assert_error(post_json(nested(settings.MAX_JSON_DEPTH + 1)), 400, "INVALID_REQUEST_BODY")
    assert str(settings.MAX_JSON_DEPTH) in body["message"]
    # At the limit the parser lets it through; the serializer then says what is missing.
    at_limit = assert_error(post_json(nested(settings.MAX_JSON_DEPTH)), 400, "INVALID_PARAMETER")
    assert at_limit["fields"] == ["directory"]
    # Deeper than Python's decoder goes, within the byte limit.
    assert_error(post_json(b"[" * 200_000 + b"]" * 200_000), 400, "INVALID_REQUEST_BODY")


def test_json_with_more_keys_and_items_than_the_limit_is_an_invalid_body(settings):
    keys = {f"unknown{number}": 1 for number in range(settings.MAX_JSON_ITEMS + 1)}
    body = assert_error(post_json(json.dumps(keys).encode()), 400, "INVALID_REQUEST_BODY")
    assert str(settings.MAX_JSON_ITEMS) in body["message"]
    patterns = {"book_id": "b", "directory": "d", "file_patterns": ["*.png"] * settings.MAX_JSON_ITEMS}
    assert_error(post_json(json.dumps(patterns).encode()), 400, "INVALID_REQUEST_BODY")
    # 50 patterns of 100 characters are what the serializer allows: refused by it, not the parser.
    patterns["file_patterns"] = ["x" * 101] * 50
    assert assert_error(post_json(json.dumps(patterns).encode()), 400, "INVALID_PARAMETER")["fields"] == ["file_patterns"]


@pytest.fixture(scope="module")
def png():
    return encode(render_lines(["测试"], size=32))


def test_a_form_with_more_files_than_django_reads_is_coded_json(png):
    files = [SimpleUploadedFile(f"p{number}.png", png) for number in range(150)]
    assert_error(APIClient().post(URL, {"file": files}, format="multipart"), 400, "TOO_MANY_FIELDS")
    body = assert_error(APIClient().post(BATCH_URL, {"files": files}, format="multipart"), 400, "TOO_MANY_FILES")
    assert body["max_files"] == 10


def test_a_form_with_too_many_fields_is_coded_json(png):
    fields = {f"field{number}": "x" for number in range(2000)}
    for url, name in ((URL, "file"), (BATCH_URL, "files")):
        response = APIClient().post(url, {name: SimpleUploadedFile("p.png", png), **fields}, format="multipart")
        assert_error(response, 400, "TOO_MANY_FIELDS")


def test_form_fields_over_the_memory_limit_are_coded_json(png, settings):
    value = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = APIClient().post(URL, {"file": SimpleUploadedFile("p.png", png), "lang": value}, format="multipart")
    assert_error(response, 413, "REQUEST_TOO_LARGE")


def test_a_batch_body_is_bounded_by_max_request_size_not_by_ten_files(settings, monkeypatch):
    assert settings.MAX_REQUEST_SIZE < settings.MAX_BATCH_FILES * settings.MAX_UPLOAD_SIZE
    from django.http import multipartparser

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", must_not_parse)
    settings.MAX_REQUEST_SIZE = 50_000
    files = [SimpleUploadedFile(f"p{number}.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20_000) for number in range(3)]
    body = assert_error(APIClient().post(BATCH_URL, {"files": files}, format="multipart"), 413, "REQUEST_TOO_LARGE")
    assert body["max_bytes"] == 50_000
