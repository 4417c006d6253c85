"""OpenAPI at /openapi.json, Swagger UI at /docs and ReDoc at /docs-enhanced, served with no internet."""

import re

import pytest
from django.test import Client


@pytest.fixture(scope="module")
def schema():
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_recognize_fields_are_described(schema):
    operation = schema["paths"]["/api/ocr/recognize"]["post"]
    ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][ref]["properties"]
    assert set(fields) >= {"file", "lang", "use_angle_cls", "detect_orientation", "return_details", "text_layout",
                           "output_format"}
    assert all(field.get("description") for field in fields.values())
    assert "vertical_rl" in str(fields["text_layout"]) or "vertical_rl" in str(schema["components"]["schemas"])
    assert fields["detect_orientation"]["default"] is True and fields["text_layout"]["default"] == "auto"
    assert operation["responses"]["200"]["content"]["application/json"]["examples"]


def test_every_single_recognition_endpoint_is_documented(schema):
    for path in ("/api/ocr/health", "/api/ocr/status", "/api/ocr/recognize", "/api/ocr/recognize-batch"):
        assert path in schema["paths"]


@pytest.mark.parametrize("page", ["/docs", "/docs-enhanced"])
def test_doc_pages_load_their_assets_from_this_server(page):
    client = Client()
    html = client.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset


def test_results_describe_rotation_and_low_confidence_lines(schema):
    schemas = schema["components"]["schemas"]
    assert "rotation" in schemas["RecognitionResult"]["properties"]
    assert "low_confidence" in schemas["Detail"]["properties"]
