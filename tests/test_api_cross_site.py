"""A page on another site cannot drive the API through its visitor's browser, whatever the network
(core/middleware.py CrossSiteRefusalMiddleware; JSON-only parsers)."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from batches.models import BatchTask
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def scan_body(directory):
    return {"book_id": "李氏族谱", "directory": str(directory), "auto_start": "false"}


def test_foreign_origin_is_refused_even_from_loopback(book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    client = APIClient(HTTP_ORIGIN="https://evil.example")
    response = client.post("/api/ocr/batch/scan", scan_body(book_dir), format="json")
    assert response.status_code == 403 and response.json()["error"] == "CROSS_SITE_REQUEST"
    assert client.post("/api/ocr/recognize", {}).json()["error"] == "CROSS_SITE_REQUEST"
    assert not BatchTask.objects.exists()


def test_fetch_metadata_cross_site_without_origin_is_refused():
    response = APIClient(HTTP_SEC_FETCH_SITE="cross-site").get("/api/ocr/batch/tasks")
    assert response.status_code == 403 and response.json()["error"] == "CROSS_SITE_REQUEST"


def test_form_encoded_scan_is_refused(book_dir):
    # What an HTML form on another site can send without a preflight, here without any Origin header.
    write_page(book_dir / "001.png", ["第1页"])
    response = APIClient().post("/api/ocr/batch/scan", scan_body(book_dir))  # multipart, as a form posts it
    assert response.status_code == 415 and response.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"
    urlencoded = APIClient().post("/api/ocr/batch/scan", "book_id=x&directory=y",
                                  content_type="application/x-www-form-urlencoded")
    assert urlencoded.status_code == 415
    assert APIClient().post("/api/ocr/batch/delete/whatever", "x=1",
                            content_type="application/x-www-form-urlencoded").status_code in (404, 415)
    assert not BatchTask.objects.exists()


@override_settings(CSRF_TRUSTED_ORIGINS=["https://ocr.example.com"])
def test_same_origin_and_trusted_origins_are_served():
    assert APIClient(HTTP_ORIGIN="http://testserver").get("/api/ocr/batch/tasks").status_code == 200
    assert APIClient(HTTP_ORIGIN="https://ocr.example.com").get("/api/ocr/batch/tasks").status_code == 200
    assert APIClient(HTTP_SEC_FETCH_SITE="same-origin").get("/api/ocr/batch/tasks").status_code == 200
    assert APIClient(HTTP_ORIGIN="null").get("/api/ocr/batch/tasks").status_code == 403
