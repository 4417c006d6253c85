"""Claims and leases of pages, the heartbeat that keeps a lease, the dispatch window, and the page time limit.

The rules on the database (real MariaDB): a delivery that finds a page held under a live lease of another
process is a duplicate and does nothing; only an expired lease is an interruption; a retry of the same job
takes its own claim back. Then with a real worker (two children, so two holders): a duplicate message for a
page being read is skipped by the other child, the heartbeat keeps the lease alive past its first term, and
a page over the soft time limit is recorded failed TIME_LIMIT_EXCEEDED while the book completes.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from batches import services
from batches.models import BatchTask, OcrResult
from batches.services import dispatch, leases
from tests.batch_support import (book_dir, purge_broker, queued_page_ids, running_worker,  # noqa: F401
                                 wait_finished, wait_for, write_page)
from tests.pages import render_lines


def make_task(folder, count: int = 2, **options):
    for page in range(1, count + 1):
        write_page(folder / f"{page:03d}.png", [f"第{page}页"])
    return services.task_create(book_id="lease-book", directory=str(folder),
                                options=services.ScanOptions.from_raw(options))


def hold(page, holder: str, seconds: float) -> None:
    OcrResult.objects.filter(pk=page.pk).update(status="processing", claimed_by=holder, attempts=1,
                                                lease_expires_at=timezone.now() + timedelta(seconds=seconds))


@pytest.mark.django_db
def test_a_live_lease_of_another_holder_makes_a_delivery_a_no_op(book_dir):
    task = make_task(book_dir)
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    hold(page, "ocr@a pid 1", 60)
    assert services.page_process(result_id=page.pk, holder="ocr@b pid 2") == "skipped"
    page.refresh_from_db()
    assert (page.status, page.claimed_by, page.attempts, page.interrupted) == ("processing", "ocr@a pid 1", 1, 0)


@pytest.mark.django_db
def test_only_an_expired_lease_is_an_interruption(book_dir):
    task = make_task(book_dir)
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    hold(page, "ocr@a pid 1", -1)
    assert services.page_process(result_id=page.pk, holder="ocr@b pid 2") == "success"
    page.refresh_from_db()
    assert (page.status, page.claimed_by, page.attempts, page.interrupted) == ("success", "ocr@b pid 2", 2, 1)
    assert page.lease_expires_at is None


@pytest.mark.django_db
def test_a_retry_of_the_same_job_takes_its_own_claim_back(book_dir):
    task = make_task(book_dir)
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    hold(page, "ocr@a pid 1", 60)  # the attempt on pid 1 hit a database error after claiming
    assert services.page_process(result_id=page.pk, holder="ocr@b pid 2", resume="ocr@a pid 1") == "success"
    page.refresh_from_db()
    assert (page.status, page.attempts, page.interrupted) == ("success", 2, 0)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_lease_from_its_own_connection(book_dir, settings):
    settings.TASK_LEASE_SECONDS = 3
    task = make_task(book_dir)
    page = OcrResult.objects.filter(task=task).order_by("sequence").first()
    hold(page, "ocr@a pid 1", 3)
    first = OcrResult.objects.get(pk=page.pk).lease_expires_at
    with leases.lease_heartbeat(page.pk, "ocr@a pid 1"):
        wait_for(lambda: OcrResult.objects.get(pk=page.pk).lease_expires_at > first, timeout=10,
                 message="lease renewed")
    # Another holder's lease is never renewed by this one.
    hold(page, "ocr@c pid 3", 3)
    other = OcrResult.objects.get(pk=page.pk).lease_expires_at
    with leases.lease_heartbeat(page.pk, "ocr@a pid 1"):
        wait_for(lambda: timezone.now() > other, timeout=10, message="a beat later")
    assert OcrResult.objects.get(pk=page.pk).lease_expires_at == other


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_every_page_held_and_lets_go_of_a_page_once_its_block_ends(book_dir, settings):
    settings.TASK_LEASE_SECONDS = 3
    task = make_task(book_dir)
    first, second = OcrResult.objects.filter(task=task).order_by("sequence")[:2]
    hold(first, "ocr@a pid 1", 3)
    hold(second, "ocr@a pid 1", 3)
    leases_now = dict(OcrResult.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "lease_expires_at"))
    with leases.lease_heartbeat(first.pk, "ocr@a pid 1"):
        with leases.lease_heartbeat(second.pk, "ocr@a pid 1"):
            wait_for(lambda: OcrResult.objects.get(pk=second.pk).lease_expires_at > leases_now[second.pk],
                     timeout=10, message="second lease renewed")
        let_go = OcrResult.objects.get(pk=second.pk).lease_expires_at
        wait_for(lambda: OcrResult.objects.get(pk=first.pk).lease_expires_at > leases_now[first.pk] + timedelta(
            seconds=1.5), timeout=10, message="first lease renewed twice")
    # The second page's block ended before the first's second renewal: its lease was left as it was.
    assert OcrResult.objects.get(pk=second.pk).lease_expires_at == let_go


@pytest.mark.django_db
def test_the_window_keeps_a_fixed_number_of_pages_in_flight(book_dir, settings, django_capture_on_commit_callbacks):
    settings.TASK_DISPATCH_WINDOW = 4
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        task = make_task(book_dir, count=10)
    rows = list(OcrResult.objects.filter(task=task).order_by("sequence"))
    assert queued_page_ids() == [row.pk for row in rows[:4]]
    assert [row.sent_at is not None for row in rows] == [True] * 4 + [False] * 6
    # Each recorded page sends the next one; pages recorded out of order do not break the count.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.page_process(result_id=rows[2].pk) == "success"
        assert services.page_process(result_id=rows[0].pk) == "success"
    assert queued_page_ids()[4:] == [rows[4].pk, rows[5].pk]
    # A cancelled task sends nothing more, whatever its running pages do.
    hold(rows[1], "ocr@a pid 1", 60)
    services.task_cancel(task_id=task.task_id)
    with django_capture_on_commit_callbacks(execute=True):
        services.page_record(task=task, result=rows[1], fields={"success": True, "raw_text": "第2页"})
    assert len(queued_page_ids()) == 6
    assert OcrResult.objects.filter(task=task, sent_at__isnull=False).count() == 6
    purge_broker()


@pytest.mark.django_db
def test_an_in_process_runner_sends_no_message(book_dir, django_capture_on_commit_callbacks):
    purge_broker()
    for page in range(1, 4):
        write_page(book_dir / f"{page:03d}.png", [f"第{page}页"])
    task = services.task_create(book_id="inline-book", directory=str(book_dir),
                                options=services.ScanOptions.from_raw({}), auto_start=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.task_start(task_id=task.task_id, send=False)
        task = services.task_run_inline(task_id=task.task_id)
    assert (task.status, task.success_files) == ("completed", 3) and queued_page_ids() == []


# --- With a worker -----------------------------------------------------------------------------------------

LEASE, SOFT_LIMIT = 3, 8


@pytest.fixture(scope="module")
def two_holders(django_db_setup, django_db_blocker, tmp_path_factory):
    """A worker with two children (two holders), a short lease and a soft time limit of SOFT_LIMIT s."""
    with django_db_blocker.unblock():
        purge_broker()
        with running_worker(tmp_path_factory.mktemp("leases"), "leases", concurrency=2,
                            TASK_LEASE_SECONDS=LEASE, TASK_PAGE_SOFT_TIME_LIMIT=SOFT_LIMIT) as worker:
            yield worker
        purge_broker()


def write_slow_page(path) -> None:
    """A PDF of many dense pages: far more than SOFT_LIMIT seconds of OCR on one thread."""
    lines = [f"李氏族谱第{n}行世系图光绪三十年重修" for n in range(24)]
    images = [render_lines(lines, size=30, margin=40).convert("RGB") for _ in range(40)]
    images[0].save(path, save_all=True, append_images=images[1:])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_duplicate_delivery_while_a_page_is_read_is_a_no_op(two_holders, book_dir):
    write_slow_page(book_dir / "001.pdf")
    task = services.task_create(book_id="dup-book", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    slow = OcrResult.objects.get(task=task)
    wait_for(lambda: OcrResult.objects.get(pk=slow.pk).status == "processing", timeout=60, interval=0.1,
             message="the page taken")
    claimed = OcrResult.objects.get(pk=slow.pk)
    # Past the first lease term: only the heartbeat keeps the lease alive now.
    wait_for(lambda: timezone.now() > claimed.lease_expires_at + timedelta(seconds=1), timeout=10, message="a lease")
    dispatch.send(task, [slow.pk])
    wait_for(lambda: "skipped (duplicate delivery" in two_holders.output(), timeout=30, message="the duplicate skipped")
    task = wait_finished(task.task_id, timeout=120)
    slow.refresh_from_db()
    assert (slow.attempts, slow.interrupted, slow.claimed_by) == (1, 0, claimed.claimed_by)
    assert (task.status, task.processed_files, task.failed_files) == ("completed", 1, 1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_page_over_the_soft_time_limit_is_recorded_failed_and_the_book_completes(two_holders, book_dir):
    write_slow_page(book_dir / "002.pdf")
    write_page(book_dir / "001.png", ["第1页"])
    write_page(book_dir / "003.png", ["第3页"])
    task = services.task_create(book_id="slow-book", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    task = wait_finished(task.task_id, timeout=120)
    rows = {row.relative_path: row for row in OcrResult.objects.filter(task=task)}
    assert (task.status, task.processed_files, task.success_files, task.failed_files) == ("completed", 3, 2, 1)
    assert rows["002.pdf"].status == "failed" and rows["002.pdf"].error_message.startswith("TIME_LIMIT_EXCEEDED")
    assert rows["002.pdf"].attempts == 1 and rows["002.pdf"].interrupted == 0
    assert rows["001.png"].raw_text == "第1页" and rows["003.png"].raw_text == "第3页"
    assert f"page 002.pdf of task {task.task_id}: failed (TIME_LIMIT_EXCEEDED)" in two_holders.output()
    assert BatchTask.objects.get(pk=task.pk).active_fingerprint is None
