"""start, status, tasks (paginated, filtered), cancel, retry and delete: shapes and states of API.md
(pages run in-process through the same service the workers call)."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from batches import services
from batches.models import BatchTask, OcrResult
from exports.models import Export
from tests.batch_support import book_dir, purge_broker, queued_page_ids, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


def create(client, directory, **body):
    response = client.post("/api/ocr/batch/scan", {"book_id": "张氏家谱", "directory": str(directory), **body},
                           format="json")
    assert response.status_code == 201, response.content
    return response.json()["task_id"]


def test_start_status_and_recent_pages(client, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    write_page(book_dir / "002.png", ["第2页"])
    task_id = create(client, book_dir, auto_start=False)
    status = client.get(f"/api/ocr/batch/status/{task_id}").json()
    assert status["status"] == "pending" and status["progress"] == 0.0 and status["started_at"] is None
    assert set(status) >= {"task_id", "book_id", "status", "progress", "total_files", "processed_files",
                           "success_files", "failed_files", "created_at", "started_at", "completed_at", "error",
                           "recent_pages"}
    started = client.post(f"/api/ocr/batch/start/{task_id}")
    assert started.status_code == 200 and started.json()["status"] == "queued"
    assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 200  # idempotent
    services.task_run_inline(task_id=task_id)
    status = client.get(f"/api/ocr/batch/status/{task_id}").json()
    assert (status["status"], status["progress"], status["processed_files"], status["success_files"]) == \
        ("completed", 100.0, 2, 2)
    assert [p["relative_path"] for p in status["recent_pages"]] == ["002.png", "001.png"]
    assert status["recent_pages"][0]["success"] is True and status["recent_pages"][0]["confidence"] > 0.8
    assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 409
    assert client.get("/api/ocr/batch/status/unknown").status_code == 404
    assert client.post("/api/ocr/batch/start/unknown").status_code == 404


def test_tasks_list_newest_first_paginated_and_filtered(client, book_dir):
    ids = []
    for n in range(5):
        folder = book_dir / f"d{n}"
        folder.mkdir()
        ids.append(create(client, folder, auto_start=False))
    client.post(f"/api/ocr/batch/cancel/{ids[1]}")
    page = client.get("/api/ocr/batch/tasks?page_size=2").json()
    assert page["count"] == 5 and [t["task_id"] for t in page["tasks"]] == ids[::-1][:2]
    assert page["next"] and page["previous"] is None
    second = client.get(page["next"]).json()
    assert [t["task_id"] for t in second["tasks"]] == ids[::-1][2:4]
    cancelled = client.get("/api/ocr/batch/tasks?status=cancelled").json()
    assert [t["task_id"] for t in cancelled["tasks"]] == [ids[1]]
    assert client.get("/api/ocr/batch/tasks?book_id=张氏家谱").json()["count"] == 5
    assert client.get("/api/ocr/batch/tasks?book_id=other").json()["count"] == 0
    assert client.get("/api/ocr/batch/tasks?status=bogus").status_code == 400


def test_cancel_while_queued_and_then_no_page_runs(client, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    task_id = create(client, book_dir)
    assert client.post(f"/api/ocr/batch/cancel/{task_id}").json()["status"] == "cancelled"
    for result_id in OcrResult.objects.filter(task_id=task_id).values_list("pk", flat=True):
        assert services.page_process(result_id=result_id) == "skipped"
    assert OcrResult.objects.get(task_id=task_id).status == "pending"
    assert client.post("/api/ocr/batch/cancel/unknown").status_code == 404


def test_retry_or_start_while_running_sends_the_unfinished_pages_again(client, book_dir,
                                                                       django_capture_on_commit_callbacks):
    write_page(book_dir / "001.png", ["第1页"])
    write_page(book_dir / "002.png", ["第2页"])
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        task_id = create(client, book_dir)
    first, second = OcrResult.objects.filter(task_id=task_id).order_by("sequence").values_list("pk", flat=True)
    assert queued_page_ids() == [first, second]
    services.page_process(result_id=first)
    # A stalled book (its message lost): retry is not refused, it sends the page waiting for a message.
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/ocr/batch/retry/{task_id}")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["retried_files"]) == ("processing", 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 200  # start does the same
    assert queued_page_ids() == [second, second]
    purge_broker()


@pytest.mark.django_db(transaction=True)
def test_start_and_retry_answer_queued_even_when_a_worker_claims_at_once(client, book_dir, monkeypatch):
    """A fast worker claims a page in the moment between the commit that sends the window and the response
    (make test saw it once): the answer is the state the call left, `queued`, not whatever came after. The
    worker is played by the send itself, since that moment cannot be hit on purpose with a real one."""
    from batches.services import dispatch

    send = dispatch.send

    def send_and_claim(task, ids):
        send(task, ids)
        BatchTask.objects.filter(pk=task.pk).update(status="processing")

    write_page(book_dir / "001.png", ["第1页"])
    monkeypatch.setattr(dispatch, "send", send_and_claim)
    task_id = create(client, book_dir, auto_start=False)
    started = client.post(f"/api/ocr/batch/start/{task_id}").json()
    assert started["status"] == "queued"
    assert BatchTask.objects.get(task_id=task_id).status == "processing"  # the "worker" did claim
    client.post(f"/api/ocr/batch/cancel/{task_id}")
    retried = client.post(f"/api/ocr/batch/retry/{task_id}").json()
    assert (retried["status"], retried["retried_files"]) == ("queued", 1)
    assert BatchTask.objects.get(task_id=task_id).status == "processing"
    purge_broker()


def test_retry_refused_when_another_unfinished_task_covers_the_directory(client, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    first = create(client, book_dir)
    client.post(f"/api/ocr/batch/cancel/{first}")
    second = create(client, book_dir, auto_start=False)
    response = client.post(f"/api/ocr/batch/retry/{first}")
    assert response.status_code == 409 and response.json()["existing_task"]["task_id"] == second


def test_delete_removes_task_results_and_export_files(client, book_dir, django_capture_on_commit_callbacks):
    write_page(book_dir / "001.png", ["第1页"])
    task_id = create(client, book_dir)
    services.task_run_inline(task_id=task_id)
    export = client.post("/api/ocr/batch/export", {"task_id": task_id, "format": "csv"}, format="json").json()
    assert (settings.EXPORT_DIR / export["file_path"]).exists()
    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion is committed
        response = client.post(f"/api/ocr/batch/delete/{task_id}")
    assert response.status_code == 200 and response.json()["success"] is True
    assert not BatchTask.objects.filter(task_id=task_id).exists()
    assert not OcrResult.objects.filter(task_id=task_id).exists() and not Export.objects.exists()
    assert not (settings.EXPORT_DIR / export["file_path"]).exists()
    assert client.post(f"/api/ocr/batch/delete/{task_id}").status_code == 404


def test_delete_cancels_a_running_task_first(client, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    task_id = create(client, book_dir)
    result_id = OcrResult.objects.get(task_id=task_id).pk
    assert client.post(f"/api/ocr/batch/delete/{task_id}").status_code == 200
    assert services.page_process(result_id=result_id) == "skipped"
    # The same directory may be scanned again at once.
    create(client, book_dir, auto_start=False)
