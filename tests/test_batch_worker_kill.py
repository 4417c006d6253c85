"""A worker killed with SIGKILL in the middle of a book, then a new one started: every page is recorded
exactly once and the book completes (Redis broker, late acknowledgement, the worker's start-up requeue).

Two ways back: the same worker restarted under its node name takes its abandoned page back at once, with
the production TASK_LOCK_TTL; another worker gets it once the lease (TASK_LOCK_TTL, also the Redis
visibility timeout) has run out, shortened here."""

import time

import pytest

from batches import services
from batches.models import OcrResult
from tests.batch_support import (book_dir, purge_broker, running_worker, task_row, wait_finished,  # noqa: F401
                                 wait_for, write_page)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LEASE = 5  # TASK_LOCK_TTL of the test workers: Redis visibility timeout and the page claim's lease


@pytest.mark.parametrize("restart", ["same_node_name", "other_worker_after_lease"])
def test_sigkill_mid_book_then_restart_records_every_page_once(book_dir, tmp_path, restart):
    purge_broker()
    for page in range(1, 13):
        write_page(book_dir / f"p{page:03d}.png", [f"第{page}页"])
    same = restart == "same_node_name"
    env = {} if same else {"TASK_LOCK_TTL": LEASE}
    nodename = "phoenix@%h" if same else None
    with running_worker(tmp_path, "doomed", nodename, **env) as doomed:
        task = services.task_create(book_id="kill-book", directory=str(book_dir),
                                    options=services.ScanOptions.from_raw({}))
        wait_for(lambda: task_row(task.task_id).processed_files >= 3, timeout=120, message="3 pages done")
        doomed.kill()
    killed_at = time.monotonic()
    task = task_row(task.task_id)
    assert task.status == "processing" and task.processed_files < 12
    in_flight = OcrResult.objects.filter(task=task, status="processing").count()
    assert in_flight <= 1

    if not same:
        time.sleep(max(0.0, LEASE + 1 - (time.monotonic() - killed_at)))
    with running_worker(tmp_path, "rescuer", nodename, **env):
        task = wait_finished(task.task_id, timeout=180)
    rows = OcrResult.objects.filter(task=task).order_by("sequence")
    assert task.status == "completed"
    assert (task.total_files, task.processed_files, task.success_files, task.failed_files) == (12, 12, 12, 0)
    assert rows.count() == 12 and len({row.relative_path for row in rows}) == 12
    assert all(row.status == "success" for row in rows)
    # The page the killed worker held was taken again: its interruption is on record, and it counted once.
    assert sum(row.interrupted for row in rows) >= in_flight
    assert sum(row.attempts for row in rows) == 12 + sum(row.interrupted for row in rows)
    assert [row.raw_text for row in rows] == [f"第{page}页" for page in range(1, 13)]
    purge_broker()
