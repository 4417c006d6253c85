"""POST /api/ocr/batch/cancel while a real worker is in the middle of a book: no page starts after the
cancel is recorded, queued messages are dropped, and retry afterwards runs only the pages never run."""

import time

import pytest
from rest_framework.test import APIClient

from batches.models import OcrResult
from ocrsite.metrics import queue_depth
from tests.batch_support import book_dir, task_row, wait_finished, wait_for, worker, write_page  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_cancel_in_the_middle_of_a_book_stops_it(worker, book_dir):
    for page in range(1, 21):
        write_page(book_dir / f"{page:03d}.png", [f"第{page}页"])
    client = APIClient()
    task_id = client.post("/api/ocr/batch/scan", {"book_id": "cancel-book", "directory": str(book_dir)},
                          format="json").json()["task_id"]
    wait_for(lambda: task_row(task_id).processed_files >= 3, timeout=120, message="3 pages done")

    response = client.post(f"/api/ocr/batch/cancel/{task_id}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    cancelled = task_row(task_id)
    assert cancelled.completed_at and cancelled.active_fingerprint is None

    # Queued messages are consumed and dropped, not run.
    wait_for(lambda: sum(queue_depth().values()) == 0, timeout=60, message="queue drained")
    time.sleep(2)
    task = task_row(task_id)
    rows = OcrResult.objects.filter(task_id=task_id)
    assert task.status == "cancelled"
    started = rows.exclude(claimed_at=None)
    assert all(row.claimed_at <= cancelled.completed_at for row in started)  # nothing started after the cancel
    assert started.count() <= cancelled.processed_files + 1  # at most the page in flight finished afterwards
    done = rows.filter(status__in=["success", "failed"]).count()
    assert task.processed_files == done == task.success_files and 3 <= done < 20
    assert rows.filter(status="pending").count() == 20 - started.count()

    assert client.post(f"/api/ocr/batch/cancel/{task_id}").status_code == 200  # idempotent
    assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 409  # finished: use retry

    # Retry runs the pages that never ran; the ones done are kept.
    done_before = {row.pk: row.updated_at for row in rows.filter(status="success")}
    retried = client.post(f"/api/ocr/batch/retry/{task_id}").json()
    assert retried["retried_files"] == 20 - len(done_before)
    task = wait_finished(task_id)
    assert task.status == "completed" and (task.processed_files, task.success_files, task.failed_files) == (20, 20, 0)
    assert rows.count() == 20
    assert {row.pk: row.updated_at for row in rows.filter(pk__in=done_before)} == done_before
    assert [row.raw_text for row in rows.order_by("sequence")] == [f"第{page}页" for page in range(1, 21)]
    assert client.post(f"/api/ocr/batch/cancel/{task_id}").status_code == 409  # completed
