"""A generated 30-page, two-volume book scanned end to end by a real Celery worker (MariaDB, Redis), then
exported: texts, book order and counts asserted in the status, the database and every export format."""

import csv
import io
import json
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from batches.models import OcrResult
from tests.batch_support import book_dir, make_two_volume_book, wait_finished, worker  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_thirty_page_two_volume_book(worker, book_dir):
    expected = make_two_volume_book(book_dir, pages_per_volume=15)
    client = APIClient()
    response = client.post("/api/ocr/batch/scan", {"book_id": "李氏族谱", "directory": str(book_dir),
                                                   "lang": "ch", "recursive": True}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["total_files"] == 30 and created["status"] in ("queued", "processing")
    task_id = created["task_id"]
    assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 200  # idempotent while running

    wait_finished(task_id, timeout=240)
    status = client.get(f"/api/ocr/batch/status/{task_id}").json()
    assert status["status"] == "completed", status
    assert (status["total_files"], status["processed_files"], status["success_files"], status["failed_files"]) == \
        (30, 30, 30, 0)
    assert status["progress"] == 100.0 and status["error"] is None
    assert status["started_at"] and status["completed_at"] and status["completed_at"].endswith("+08:00")
    assert len(status["recent_pages"]) == 10 and all(page["success"] for page in status["recent_pages"])

    rows = list(OcrResult.objects.filter(task_id=task_id).order_by("sequence"))
    assert [(r.relative_path, int(r.volume), r.page_number) for r in rows] == [(p, v, n) for p, v, n, _ in expected]
    assert [r.raw_text for r in rows] == [text for *_, text in expected]
    for row in rows:
        assert row.status == "success" and row.success is True and row.error_message == ""
        assert 0.8 < float(row.confidence) <= 1 and row.processing_time > 0
        assert row.file_size == (book_dir / row.relative_path).stat().st_size and len(row.content_hash) == 64
        assert [d["text"] for d in row.json_data["details"]] == [row.raw_text]
        assert len(row.json_data["details"][0]["box"]) == 4

    export = client.post("/api/ocr/batch/export", {"task_id": task_id, "format": "json"}, format="json").json()
    assert export["success"] is True and export["total_pages"] == 30 and export["file_size"] > 0
    assert export["download_url"] == f"/api/ocr/batch/download/{task_id}?format=json"
    with open(settings.EXPORT_DIR / export["file_path"], encoding="utf-8") as handle:
        document = json.load(handle)
    assert document["book_id"] == "李氏族谱" and document["task_id"] == task_id and document["total_pages"] == 30
    assert document["source_directory"] == str(book_dir.resolve()) and document["export_time"]
    assert [(p["relative_path"], p["volume"], p["page_number"], p["raw_text"], p["success"])
            for p in document["pages"]] == [(p, v, n, t, True) for p, v, n, t in expected]
    assert document["pages"][0]["file_name"] == "1.png" and "details" not in document["pages"][0]

    download = client.get(f"/api/ocr/batch/download/{task_id}?format=csv")
    assert download.status_code == 200
    assert "filename*=utf-8''%E6%9D%8E%E6%B0%8F%E6%97%8F%E8%B0%B1_" in download["Content-Disposition"]
    data = b"".join(download.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["文件名", "卷号", "页码", "识别文字", "置信度", "状态"]
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in table[1:]] == \
        [(p, str(v), str(n), t, "成功") for p, v, n, t in expected]

    text = b"".join(client.get(f"/api/ocr/batch/download/{task_id}?format=txt").streaming_content).decode()
    positions = [text.index(f"\n{t}\n") for *_, t in expected]
    assert positions == sorted(positions) and text.count("=====") == 60

    # The newest export of a format is served again, not written again.
    again = client.get(f"/api/ocr/batch/download/{task_id}?format=json")
    assert again["X-Export-Id"] == export["export_id"]
