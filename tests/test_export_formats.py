"""POST /api/ocr/batch/export and GET /api/ocr/batch/download: JSON, CSV (UTF-8 with BOM) and plain text in
book order, failed pages included with their error, records in `exports`, file names for Chinese book ids,
and bounded memory for a big book."""

import csv
import io
import json
import tracemalloc

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from batches import services
from batches.models import BatchTask, OcrResult
from exports.models import Export
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_task(book_dir):
    write_page(book_dir / "卷二" / "001.png", ["第2卷第1页"])
    write_page(book_dir / "卷一" / "002.png", ["第1卷第2页", "Hello World"])
    write_page(book_dir / "卷一" / "001.png", ["第1卷第1页"])
    (book_dir / "卷一" / "003.png").write_bytes(b"broken")
    task = services.task_create(book_id="王氏宗谱", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    return services.task_run_inline(task_id=task.task_id)


def test_json_export_with_details_and_failed_page(finished_task):
    client = APIClient()
    response = client.post("/api/ocr/batch/export", {"task_id": finished_task.task_id, "format": "json",
                                                     "include_details": True}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["total_pages"] == 4 and not body["file_path"].startswith("/")
    document = json.loads((settings.EXPORT_DIR / body["file_path"]).read_text(encoding="utf-8"))
    pages = document["pages"]
    assert [p["relative_path"] for p in pages] == ["卷一/001.png", "卷一/002.png", "卷一/003.png", "卷二/001.png"]
    assert pages[1]["raw_text"] == "第1卷第2页\nHello World"
    assert [d["text"] for d in pages[1]["details"]] == ["第1卷第2页", "Hello World"]
    assert pages[2]["success"] is False and pages[2]["raw_text"] == "" and pages[2]["error"]
    assert pages[2]["confidence"] is None and pages[2]["volume"] == 1 and pages[2]["page_number"] == 3
    export = Export.objects.get(export_id=body["export_id"])
    assert (export.export_format, export.status, export.total_pages, export.include_details) == ("json", "completed", 4, True)
    assert export.expires_at and export.file_size == (settings.EXPORT_DIR / body["file_path"]).stat().st_size
    # Times carry TIME_ZONE's offset, as the status endpoint's do.
    assert document["export_time"].endswith("+08:00") and body["expires_at"].endswith("+08:00")


def test_csv_has_bom_header_and_rows_in_book_order(finished_task):
    body = APIClient().post("/api/ocr/batch/export", {"task_id": finished_task.task_id, "format": "csv"},
                            format="json").json()
    raw = (settings.EXPORT_DIR / body["file_path"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["文件名", "卷号", "页码", "识别文字", "置信度", "状态"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == [
        ("卷一/001.png", "1", "1", "第1卷第1页"), ("卷一/002.png", "1", "2", "第1卷第2页\nHello World"),
        ("卷一/003.png", "1", "3", ""), ("卷二/001.png", "2", "1", "第2卷第1页")]
    assert rows[1][5] == "成功" and rows[3][5].startswith("失败") and float(rows[1][4]) > 0.8


def test_plain_text_one_file_pages_separated(finished_task):
    response = APIClient().get(f"/api/ocr/batch/download/{finished_task.task_id}?format=txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("王氏宗谱\n")
    assert text.index("第1卷第1页\n") < text.index("第1卷第2页\nHello World") < text.index("[识别失败]") < \
        text.index("第2卷第1页")
    assert text.count("=====") == 8


def test_download_creates_then_reuses_the_newest_export_with_a_chinese_file_name(finished_task):
    client = APIClient()
    first = client.get(f"/api/ocr/batch/download/{finished_task.task_id}?format=json")
    assert first.status_code == 200 and first["Content-Type"].startswith("application/json")
    disposition = first["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''%E7%8E%8B%E6%B0%8F%E5%AE%97%E8%B0%B1_" in disposition
    # An ASCII name with the extension as well, for `curl -OJ` and clients that read only `filename=`.
    assert f'filename="{finished_task.task_id[:8]}.json"' in disposition
    assert json.loads(b"".join(first.streaming_content))["total_pages"] == 4
    second = client.get(f"/api/ocr/batch/download/{finished_task.task_id}?format=json")
    assert second["X-Export-Id"] == first["X-Export-Id"]
    assert Export.objects.filter(task=finished_task, export_format="json").count() == 1
    # A newer export is the one served.
    newer = client.post("/api/ocr/batch/export", {"task_id": finished_task.task_id, "format": "json"},
                        format="json").json()
    assert client.get(f"/api/ocr/batch/download/{finished_task.task_id}?format=json")["X-Export-Id"] == newer["export_id"]


def test_export_errors(finished_task):
    client = APIClient()
    bad = client.post("/api/ocr/batch/export", {"task_id": finished_task.task_id, "format": "xlsx"}, format="json")
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_PARAMETER"
    missing = client.post("/api/ocr/batch/export", {"task_id": "nope", "format": "json"}, format="json")
    assert missing.status_code == 404 and missing.json()["error"] == "TASK_NOT_FOUND"
    assert client.get("/api/ocr/batch/download/nope?format=csv").status_code == 404
    assert client.get(f"/api/ocr/batch/download/{finished_task.task_id}?format=xlsx").status_code == 400


@pytest.mark.slow
def test_big_book_exports_in_bounded_memory(book_dir):
    task = services.task_create(book_id="big", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    text = "族" * 700
    rows = [OcrResult(task=task, book_id="big", file_name=f"{n}.png", relative_path=f"{n}.png",
                      path_hash=services.path_hash(f"{n}.png"), sequence=n, page_number=n, status="success",
                      success=True, raw_text=text, confidence=0.9) for n in range(20000)]
    OcrResult.objects.bulk_create(rows, batch_size=2000)
    del rows
    BatchTask.objects.filter(pk=task.pk).update(total_files=20000)
    from exports.services import export_create

    for fmt in ("json", "csv"):
        tracemalloc.start()
        export = export_create(task=task, export_format=fmt)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert export.total_pages == 20000 and export.file_size > 40_000_000
        assert peak < 15_000_000, f"{fmt}: peak {peak / 1e6:.1f} MB for a {export.file_size / 1e6:.0f} MB file"


def test_csv_cells_that_would_run_as_formulas_are_escaped(book_dir):
    write_page(book_dir / "=HYPERLINK(1).png", ["+86 021 6543 2187"])
    write_page(book_dir / "002.png", ["李氏族谱"])
    task = services.task_create(book_id="公式", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    task = services.task_run_inline(task_id=task.task_id)
    read = OcrResult.objects.get(task=task, relative_path="=HYPERLINK(1).png").raw_text
    assert read.startswith("+86")
    body = APIClient().post("/api/ocr/batch/export", {"task_id": task.task_id, "format": "csv"}, format="json").json()
    rows = list(csv.reader(io.StringIO((settings.EXPORT_DIR / body["file_path"]).read_text(encoding="utf-8-sig"))))
    cells = {row[0]: row[3] for row in rows[1:]}
    assert cells == {"'=HYPERLINK(1).png": "'" + read, "002.png": "李氏族谱"}
