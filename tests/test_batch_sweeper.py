"""The sweeper (batches.sweep), run here in the test process on the real database, the test Redis broker
(messages read back from the queue) and the Redis cache: what it re-sends, what it leaves alone, the tasks it
completes, and the lock that lets one sweep run per interval however many beats send it.

End to end (a worker's embedded beat sending it after a SIGKILL, a broker restart, a database outage):
tests/test_batch_worker_kill.py and tests/test_batch_faults.py."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from batches import services
from batches.models import BatchTask, OcrResult
from batches.services import recovery
from ocrsite.celery import app
from tests.batch_support import book_dir, purge_broker, queued_page_ids, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """One sweep, with its messages sent (its transactions' on_commit callbacks run)."""
    def run():
        cache.delete(recovery.SWEEP_LOCK)
        with django_capture_on_commit_callbacks(execute=True):
            return services.sweep()

    purge_broker()
    yield run
    purge_broker()
    cache.delete(recovery.SWEEP_LOCK)


def make_task(folder, count: int):
    for page in range(1, count + 1):
        write_page(folder / f"{page:03d}.png", [f"第{page}页"])
    task = services.task_create(book_id="sweep-book", directory=str(folder),
                                options=services.ScanOptions.from_raw({}))  # first window marked, not sent
    BatchTask.objects.filter(pk=task.pk).update(status="processing")
    return task, list(OcrResult.objects.filter(task=task).order_by("sequence"))


def test_expired_leases_are_sent_again_live_ones_are_not(book_dir, settings, sweep):
    settings.TASK_DISPATCH_WINDOW = 3
    task, rows = make_task(book_dir, 4)
    now = timezone.now()
    sent = now - timedelta(seconds=30)
    OcrResult.objects.filter(pk=rows[0].pk).update(status="processing", claimed_by="ocr@a pid 1", sent_at=sent,
                                                   lease_expires_at=now - timedelta(seconds=1))
    OcrResult.objects.filter(pk=rows[1].pk).update(status="processing", claimed_by="ocr@a pid 2", sent_at=sent,
                                                   lease_expires_at=now + timedelta(seconds=60))
    # Pretend the third page's message is in the queue: nothing is missing but the expired lease.
    app.send_task("batches.process_page", args=[rows[2].pk])
    assert sweep() == 1
    assert queued_page_ids() == [rows[2].pk, rows[0].pk]
    assert sweep() == 0  # sent again already: not again until claimed
    assert OcrResult.objects.get(pk=rows[3].pk).sent_at is None  # the window (3) is full


def test_lost_messages_are_sent_again_once_an_interval_old(book_dir, settings, sweep):
    settings.TASK_DISPATCH_WINDOW = 2
    task, rows = make_task(book_dir, 3)
    # The window's two messages were never queued (a broker restarted without persistence): just sent, they
    # may still be on their way; an interval later they are sent again.
    assert sweep() == 0 and queued_page_ids() == []
    OcrResult.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        sent_at=timezone.now() - timedelta(seconds=settings.TASK_SWEEP_INTERVAL + 1))
    assert sweep() == 2
    assert queued_page_ids() == [rows[0].pk, rows[1].pk]
    # Now the queue holds them: nothing is missing, nothing is sent, however old.
    OcrResult.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(sent_at=timezone.now() - timedelta(hours=1))
    assert sweep() == 0 and len(queued_page_ids()) == 2


def test_windows_are_topped_up_and_finished_tasks_completed(book_dir, settings, sweep):
    settings.TASK_DISPATCH_WINDOW = 2
    task, rows = make_task(book_dir / "a", 3)
    # A page recorded while the top-up could not happen (the window was marked, nothing more).
    OcrResult.objects.filter(pk=rows[0].pk).update(status="success", success=True)
    app.send_task("batches.process_page", args=[rows[1].pk])
    assert sweep() == 1 and queued_page_ids() == [rows[1].pk, rows[2].pk]
    # A task whose pages are all counted but that is still "processing" (its completion was lost).
    done, done_rows = make_task(book_dir / "b", 1)
    services.page_record(task=done, result=done_rows[0], fields={"success": True, "raw_text": "x"})
    BatchTask.objects.filter(pk=done.pk).update(status="processing", completed_at=None)
    sweep()
    done.refresh_from_db()
    assert (done.status, done.processed_files, float(done.progress)) == ("completed", 1, 100.0)


def test_one_sweep_per_interval_however_many_beats(book_dir, sweep, django_capture_on_commit_callbacks):
    task, rows = make_task(book_dir, 1)
    OcrResult.objects.filter(pk=rows[0].pk).update(status="processing", lease_expires_at=timezone.now())
    assert sweep() == 1
    OcrResult.objects.filter(pk=rows[0].pk).update(sent_at=None)  # due again
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep() is None  # the lock of the sweep above holds this interval
    assert queued_page_ids() == [rows[0].pk]
