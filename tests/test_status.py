"""GET /api/ocr/status: engine, models, languages, counters and queue depth."""

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.pages import encode, render_lines


def test_status_reports_engine_models_langs_and_counters():
    client = APIClient()
    before = client.get("/api/ocr/status").json()
    assert before["engine"] == "onnxruntime"
    assert {"ch", "en"} <= set(before["langs"])
    assert any(model["name"] == "PP-OCRv6_small" for model in before["models"])
    assert before["uptime_seconds"] >= 0
    assert before["queue_depth"] is None or before["queue_depth"] >= 0

    page = SimpleUploadedFile("p.png", encode(render_lines(["状态计数"], face="sans")))
    assert client.post("/api/ocr/recognize", {"file": page}, format="multipart").status_code == 200
    after = client.get("/api/ocr/status").json()
    assert after["requests"] == before["requests"] + 1
    assert after["images"] == before["images"] + 1
    assert "PP-OCRv6_small" in [model["name"] for model in after["loaded_models"]]
