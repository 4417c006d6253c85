"""A worker killed with SIGKILL in the middle of a book, then a worker started again: every page is recorded
exactly once and the book finishes by itself, with nobody's help (no requeue, no retry).

Two ways back: the same worker restarted under its node name takes its abandoned page back at once (its
start expires the leases held under that name); a worker under another name gets it once the killed
holder's lease has run out, from the sweeper its embedded beat sends. Lease and sweep interval are
shortened here (TASK_LEASE_SECONDS, TASK_SWEEP_INTERVAL); the time from the kill to the abandoned page's
record is printed (bench/run_recovery.py measures it with the default settings)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from batches import services
from batches.models import OcrResult
from tests.batch_support import (book_dir, purge_broker, running_worker, task_row, wait_finished,  # noqa: F401
                                 wait_for, write_page)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LEASE, SWEEP = 6, 3
RECOVERY = {"TASK_LEASE_SECONDS": LEASE, "TASK_SWEEP_INTERVAL": SWEEP}


@pytest.mark.parametrize("restart", ["same_node_name", "new_node_name"])
def test_sigkill_mid_book_then_restart_records_every_page_once(book_dir, tmp_path, restart):
    purge_broker()
    for page in range(1, 13):
        write_page(book_dir / f"p{page:03d}.png", [f"第{page}页"])
    nodename = "phoenix@%h" if restart == "same_node_name" else None
    with running_worker(tmp_path, "doomed", nodename, beat=True, **RECOVERY) as doomed:
        task = services.task_create(book_id="kill-book", directory=str(book_dir),
                                    options=services.ScanOptions.from_raw({}))
        # Killed just after it claimed a page, so that it dies reading it: a kill between two pages (the
        # record, the hand-over, the next claim) would leave no page abandoned.
        wait_for(lambda: task_row(task.task_id).processed_files >= 3 and OcrResult.objects.filter(
            task=task, status="processing", claimed_at__gte=timezone.now() - timedelta(milliseconds=40)).exists(),
            timeout=120, interval=0.02, message="mid-book, a page just claimed")
        doomed.kill()
    killed_at = time.monotonic()
    task = task_row(task.task_id)
    assert task.status == "processing" and task.processed_files < 12
    abandoned = list(OcrResult.objects.filter(task=task, status="processing").values_list("pk", flat=True))
    assert len(abandoned) == 1

    with running_worker(tmp_path, "rescuer", nodename, beat=True, **RECOVERY):
        wait_for(lambda: OcrResult.objects.get(pk=abandoned[0]).status == "success", timeout=120,
                 message="the abandoned page recorded")
        recovered = time.monotonic() - killed_at
        task = wait_finished(task.task_id, timeout=180)
    print(f"\n{restart}: abandoned page recorded {recovered:.1f} s after the SIGKILL (lease {LEASE} s, sweep {SWEEP} s)")
    # Back within the lease plus a sweep interval, plus the rescuer's start-up (engine warm-up).
    assert recovered < LEASE + SWEEP + 60
    rows = OcrResult.objects.filter(task=task).order_by("sequence")
    assert task.status == "completed"
    assert (task.total_files, task.processed_files, task.success_files, task.failed_files) == (12, 12, 12, 0)
    assert rows.count() == 12 and all(row.status == "success" for row in rows)
    # The page the killed worker held was taken again: its interruption is on record, and it counted once.
    assert OcrResult.objects.get(pk=abandoned[0]).interrupted == 1
    assert sum(row.attempts for row in rows) == 12 + sum(row.interrupted for row in rows)
    assert [row.raw_text for row in rows] == [f"第{page}页" for page in range(1, 13)]
    purge_broker()
