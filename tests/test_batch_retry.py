"""Pages that fail (corrupt files) are recorded with their error without stopping the book; after the files
are fixed, POST /api/ocr/batch/retry runs only those pages again (real worker)."""

import pytest
from rest_framework.test import APIClient

from batches.models import OcrResult
from tests.batch_support import book_dir, wait_finished, worker, write_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BROKEN = {"003.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "006.jpg": b"this is not an image", "007.pdf": b"%PDF-1.4 broken"}


def test_retry_after_injected_failures_reruns_only_them(worker, book_dir):
    broken_pages = {int(name[:3]) for name in BROKEN}
    names = [f"{page:03d}.png" for page in range(1, 9) if page not in broken_pages] + list(BROKEN)
    for name in names:
        if name in BROKEN:
            (book_dir / name).write_bytes(BROKEN[name])
        else:
            write_page(book_dir / name, [f"第{int(name[:3])}页"])
    client = APIClient()
    task_id = client.post("/api/ocr/batch/scan", {"book_id": "retry-book", "directory": str(book_dir)},
                          format="json").json()["task_id"]
    task = wait_finished(task_id)
    assert task.status == "completed"  # failed pages never fail the book
    assert (task.total_files, task.processed_files, task.success_files, task.failed_files) == (8, 8, 5, 3)
    rows = OcrResult.objects.filter(task_id=task_id)
    failed = {row.file_name: row for row in rows.filter(status="failed")}
    assert set(failed) == set(BROKEN)
    for row in failed.values():
        assert row.success is False and row.raw_text == "" and row.error_message
        assert row.error_message.split(":")[0] in {"CORRUPT_IMAGE", "UNSUPPORTED_FORMAT", "EMPTY_FILE"}
    assert client.get(f"/api/ocr/batch/status/{task_id}").json()["failed_files"] == 3

    good_before = {row.pk: (row.updated_at, row.attempts) for row in rows.filter(status="success")}
    # Fix the files in place: same names, now real files of their formats.
    from tests.pages import render_lines

    for name in BROKEN:
        page = int(name[:3])
        image = render_lines([f"第{page}页"], size=28, margin=30)
        image.save(book_dir / name, {"png": "PNG", "jpg": "JPEG", "pdf": "PDF"}[name.rsplit(".", 1)[1]])

    response = client.post(f"/api/ocr/batch/retry/{task_id}")
    assert response.status_code == 200
    assert response.json()["retried_files"] == 3 and response.json()["status"] == "queued"
    task = wait_finished(task_id)
    assert task.status == "completed"
    assert (task.total_files, task.processed_files, task.success_files, task.failed_files) == (8, 8, 8, 0)
    assert rows.count() == 8
    assert {row.pk: (row.updated_at, row.attempts) for row in rows.filter(pk__in=good_before)} == good_before
    for row in rows.filter(file_name__in=list(BROKEN)):
        assert row.status == "success" and row.attempts == 2 and row.error_message == ""
        assert row.raw_text == f"第{int(row.file_name[:3])}页"

    again = client.post(f"/api/ocr/batch/retry/{task_id}").json()
    assert again["retried_files"] == 0 and again["status"] == "completed"
