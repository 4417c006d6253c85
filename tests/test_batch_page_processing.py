"""page_process and page_record, the unit of work of the workers: a page delivered twice is recorded and
counted once, a page that keeps losing its worker is given up, an engine that cannot load fails the task;
the requeue of pages whose worker is gone (real Redis: the messages are read back from the queue)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from batches import services
from batches.models import BatchTask, OcrResult
from batches.services import pages
from recognition import errors
from tests.batch_support import book_dir, purge_broker, queued_page_ids, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    write_page(book_dir / "002.png", ["第2页"])
    return services.task_create(book_id="b", directory=str(book_dir), options=services.ScanOptions.from_raw({}))


def test_a_page_delivered_twice_is_recorded_and_counted_once(task):
    first, second = OcrResult.objects.filter(task=task).order_by("sequence")
    assert services.page_process(result_id=first.pk) == "success"
    assert services.page_process(result_id=first.pk) == "skipped"
    # A late duplicate write (a worker that held the page past its lease) changes nothing.
    assert services.page_record(task=task, result=first, fields={"success": False, "error_message": "x"}) is False
    task.refresh_from_db()
    assert (task.status, task.processed_files, task.success_files, task.failed_files, float(task.progress)) == \
        ("processing", 1, 1, 0, 50.0)
    first.refresh_from_db()
    assert first.status == "success" and first.raw_text == "第1页" and first.attempts == 1
    assert services.page_process(result_id=second.pk) == "success"
    task.refresh_from_db()
    assert (task.status, task.processed_files, float(task.progress), task.active_fingerprint) == \
        ("completed", 2, 100.0, None)
    assert OcrResult.objects.filter(task=task).count() == 2


def test_a_recorded_page_and_its_claim_read_back_as_written(task):
    # Claim and record write their rows as SQL (batches/services/rows.py): what the ORM reads back must be
    # exactly what was given, JSON, decimals and the aware times included.
    first = OcrResult.objects.filter(task=task).order_by("sequence").first()
    claim = pages.page_claim(first.pk, "ocr@a pid 1")
    claimed = OcrResult.objects.get(pk=first.pk)
    assert (claimed.status, claimed.claimed_by, claimed.attempts, claimed.lease_expires_at) == \
        ("processing", "ocr@a pid 1", 1, claim.result.lease_expires_at)
    details = [{"text": "陈氏族谱", "confidence": 0.9731, "box": [[1, 2], [3, 4], [5, 6], [7, 8]]}]
    fields = {"success": True, "raw_text": "陈氏族谱\n'引号' \"双引号\" \\", "file_size": 2**40, "content_hash": "a" * 64,
              "json_data": {"details": details, "processing_time": 1.25, "width": 700, "height": 900},
              "confidence": Decimal("0.9731"), "processing_time": Decimal("1.250"), "error_message": ""}
    before = timezone.now()
    assert services.page_record(task=claim.task, result=claim.result, fields=dict(fields)) is True
    page = OcrResult.objects.get(pk=first.pk)
    assert {name: getattr(page, name) for name in fields if name != "success"} == \
        {name: value for name, value in fields.items() if name != "success"}
    assert (page.status, page.success, page.lease_expires_at) == ("success", True, None)
    assert before <= page.updated_at <= timezone.now()
    task.refresh_from_db()
    assert (task.processed_files, task.success_files, task.failed_files, task.progress) == (1, 1, 0, Decimal("50"))


def test_a_page_interrupted_too_often_is_given_up(task, settings):
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    OcrResult.objects.filter(pk=page.pk).update(status="processing", interrupted=settings.TASK_MAX_RETRIES)
    assert services.page_process(result_id=page.pk) == "failed"
    page.refresh_from_db()
    assert page.status == "failed" and page.error_message.startswith("WORKER_LOST")
    task.refresh_from_db()
    assert (task.processed_files, task.failed_files) == (1, 1)


def test_an_interrupted_page_is_run_again(task):
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    OcrResult.objects.filter(pk=page.pk).update(status="processing", attempts=1)
    assert services.page_process(result_id=page.pk) == "success"
    page.refresh_from_db()
    assert (page.attempts, page.interrupted, page.raw_text) == (2, 1, "第1页")


def test_engine_unavailable_fails_the_task_and_keeps_the_page_for_retry(task, monkeypatch):
    import recognition.services

    def broken(data, options):
        raise errors.EngineUnavailableError("模型文件缺失")

    monkeypatch.setattr(recognition.services, "recognize_bytes", broken)
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    assert services.page_process(result_id=page.pk) == "engine_failed"
    task.refresh_from_db()
    page.refresh_from_db()
    assert task.status == "failed" and "ENGINE_UNAVAILABLE" in task.error_message and page.status == "pending"
    monkeypatch.undo()
    task, count = services.task_retry(task_id=task.task_id, send=False)
    assert count == 2 and task.status == "queued"
    task = services.task_run_inline(task_id=task.task_id)
    assert (task.status, task.success_files) == ("completed", 2)


def test_requeue_sends_pages_whose_lease_expired_and_on_request_every_waiting_page(
        task, django_capture_on_commit_callbacks):
    purge_broker()
    first, second = OcrResult.objects.filter(task=task).order_by("sequence")
    now = timezone.now()
    BatchTask.objects.filter(pk=task.pk).update(status="processing")
    OcrResult.objects.filter(pk=first.pk).update(status="processing", claimed_by="gone@a pid 1",
                                                 sent_at=now - timedelta(seconds=70),
                                                 lease_expires_at=now - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pages_requeue_stalled() == 1
    assert queued_page_ids() == [first.pk]
    # Sent again since its lease ran out: not again until a worker claims it (or its message is missed).
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pages_requeue_stalled() == 0
    # `tasks --requeue`: every page waiting for a message too (the second one, sent when the task started).
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pages_requeue_stalled(include_waiting=True) == 2
    assert sorted(queued_page_ids()) == sorted([first.pk, first.pk, second.pk])
    purge_broker()


def test_pages_held_by_a_restarted_worker_name_are_requeued_at_once(task, django_capture_on_commit_callbacks):
    purge_broker()
    first, second = OcrResult.objects.filter(task=task).order_by("sequence")
    live = timezone.now() + timedelta(seconds=60)
    BatchTask.objects.filter(pk=task.pk).update(status="processing")
    OcrResult.objects.filter(pk=first.pk).update(status="processing", claimed_by="celery@a pid 11", lease_expires_at=live)
    OcrResult.objects.filter(pk=second.pk).update(status="processing", claimed_by="celery@ab pid 12",
                                                  lease_expires_at=live)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.pages_requeue_stalled(node="celery@a") == 1
    assert queued_page_ids() == [first.pk]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.lease_expires_at <= timezone.now() and second.lease_expires_at == live
    purge_broker()


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_start_fails_the_task_with_503_and_retry_sends_it_later(book_dir, monkeypatch):
    from kombu.exceptions import OperationalError
    from rest_framework.test import APIClient

    from ocrsite.celery import app

    write_page(book_dir / "001.png", ["第1页"])

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", down)
    client = APIClient()
    task_id = client.post("/api/ocr/batch/scan", {"book_id": "b", "directory": str(book_dir), "auto_start": False},
                          format="json").json()["task_id"]
    response = client.post(f"/api/ocr/batch/start/{task_id}")
    assert response.status_code == 503 and response.json()["error"] == "BROKER_UNAVAILABLE"
    task = BatchTask.objects.get(task_id=task_id)
    assert task.status == "failed" and task.error_message.startswith("BROKER_UNAVAILABLE")
    sent = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append((name, args)))
    response = client.post(f"/api/ocr/batch/retry/{task_id}")
    assert response.status_code == 200 and response.json()["retried_files"] == 1
    assert sent == [("batches.process_page", [OcrResult.objects.get(task_id=task_id).pk])]
