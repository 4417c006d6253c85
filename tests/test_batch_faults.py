"""Faults a book must ride out by itself, for real, on one book read by a real worker (with its embedded
beat, so the sweeper runs), nobody's help asked (no requeue, no retry, no restart):

1. the broker restarted without persistence mid-book: every queued message is lost;
2. the database unreachable for 15 s, then for 60 s, mid-book.

The worker's broker is a Redis server of this test's own (`--save '' --appendonly no`, restarted by the
test; the shared Redis is never touched), and it reaches MariaDB through a TCP relay that the test cuts and
restores (tests/test_outage_errors.py's Relay): the shared MariaDB keeps running, the test process reads the
progress directly. Lease and sweep interval are shortened; the recovery times are printed as figures
(bench/run_recovery.py measures them with the default settings).
"""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from batches.models import OcrResult
from tests.batch_support import (ROOT, PrivateRedis, Worker, book_dir, child_env, task_row,  # noqa: F401
                                 wait_finished, wait_for, write_page)
from tests.test_outage_errors import Relay

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LEASE, SWEEP = 6, 3
PAGES = 40


@pytest.fixture
def stack(tmp_path):
    if not os.environ.get("DB_HOST"):
        pytest.skip("needs DB_HOST (MariaDB)")
    broker = PrivateRedis(tmp_path)
    database = Relay(os.environ["DB_HOST"], int(os.environ.get("DB_PORT") or 3306))
    env = child_env(REDIS_HOST="127.0.0.1", REDIS_PORT=broker.port, REDIS_DB=0, DB_PORT=database.port,
                    DB_POOL_TIMEOUT=5, TASK_LEASE_SECONDS=LEASE, TASK_SWEEP_INTERVAL=SWEEP)
    try:
        yield env, broker, database
    finally:
        database.cut()
        broker.stop()


def processed(task_id: str) -> int:
    return task_row(task_id).processed_files


def test_a_book_rides_out_a_broker_restart_and_database_outages_by_itself(stack, book_dir, tmp_path):
    env, broker, database = stack
    for page in range(1, PAGES + 1):
        write_page(book_dir / f"{page:03d}.png", [f"第{page}页"])
    worker = Worker(env, tmp_path / "worker.log", "faults", beat=True).wait_ready()
    figures = {}
    try:
        scan = subprocess.run([sys.executable, "manage.py", "scan", "faults-book", str(book_dir), "--no-wait"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert scan.returncode == 0, scan.stdout + scan.stderr[-3000:]
        task_id = next(part.split("=", 1)[1] for part in scan.stdout.split() if part.startswith("task_id="))

        # 1. Broker restart: the window's queued messages are gone with it.
        wait_for(lambda: processed(task_id) >= 4, timeout=120, interval=0.1, message="4 pages done")
        lost = set(OcrResult.objects.filter(task_id=task_id, status="pending", sent_at__isnull=False)
                   .values_list("pk", flat=True))
        assert len(lost) >= settings.TASK_DISPATCH_WINDOW - 2
        broker.restart(down_seconds=3)
        restarted = time.monotonic()
        wait_for(lambda: not OcrResult.objects.filter(pk__in=lost).exclude(status="success").exists(), timeout=120,
                 message="the pages whose messages were lost")
        figures["broker restart (3 s down): lost pages all read"] = time.monotonic() - restarted

        # 2. Database unreachable 15 s, then 60 s: page jobs retry, leases lapse, the sweeper repairs.
        for down, after in ((15, 14), (60, 24)):
            wait_for(lambda: processed(task_id) >= after, timeout=120, interval=0.1, message=f"{after} pages done")
            database.cut()
            time.sleep(down)
            before = processed(task_id)
            database.restore()
            restored = time.monotonic()
            wait_for(lambda: processed(task_id) >= before + 3, timeout=120, message="pages done again")
            figures[f"database down {down} s: 3 more pages done"] = time.monotonic() - restored
        task = wait_finished(task_id, timeout=240)
    finally:
        worker.stop()
    print("\n" + "\n".join(f"{name}: {seconds:.1f} s after the fault ended" for name, seconds in figures.items()))

    rows = OcrResult.objects.filter(task_id=task_id).order_by("sequence")
    assert task.status == "completed", worker.output()[-3000:]
    assert (task.total_files, task.processed_files, task.success_files, task.failed_files) == (PAGES, PAGES, PAGES, 0)
    assert float(task.progress) == 100.0 and task.active_fingerprint is None
    assert rows.count() == PAGES and all(row.status == "success" for row in rows)
    assert [row.raw_text for row in rows] == [f"第{page}页" for page in range(1, PAGES + 1)]
    assert "database error, retry" in worker.output()  # the outages did reach the page jobs
