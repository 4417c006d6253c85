"""How long a book takes to finish after each fault, with the default lease and sweep settings.

    .venv/bin/python bench/run_recovery.py                      # every fault, 30-page books
    .venv/bin/python bench/run_recovery.py --faults kill_new_name,broker_restart --pages 20
    .venv/bin/python bench/run_recovery.py --output /tmp/bench-recovery.md

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; a database `<DB_NAME>_recovery_bench` is dropped and
created) and `redis-server` on the PATH: the broker is a Redis of the script's own, without persistence, so
that restarting it loses the queued messages, and the worker reaches MariaDB through a TCP relay the script
cuts, so that the shared server keeps running. Each fault gets a fresh book of --pages rendered pages and
one `celery worker --beat` (the service's command line: embedded beat sending the sweeper) with
TASK_LEASE_SECONDS, TASK_SWEEP_INTERVAL and TASK_DB_RETRY_WINDOW as the environment sets them (defaults 60,
60, 600). The fault comes once --fault-after pages are done:

- baseline: no fault (the book's own time);
- kill_same_name: SIGKILL of the worker, a new one started at once under the same node name;
- kill_new_name: SIGKILL, a new one at once under another node name (the abandoned page waits for its lease);
- broker_restart: Redis stopped, started again empty --broker-down s later;
- db_outage: the database unreachable for --db-down s.

"recovered" is from the end of the fault (the new worker ready, Redis or the database back) to the moment
the pages in flight at the fault are all done; "finished" is from the same moment to the book's completion;
"book" is the whole book, to compare with the baseline.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.batch_support import PrivateRedis, Worker, wait_for, write_page  # noqa: E402
from tests.test_outage_errors import Relay  # noqa: E402

FAULTS = ["baseline", "kill_same_name", "kill_new_name", "broker_restart", "db_outage"]


def prepare_database(env: dict) -> None:
    import MySQLdb

    connection = MySQLdb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=env["DB_USER"],
                                 password=env["DB_PASSWORD"], connect_timeout=5)
    try:
        cursor = connection.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{env['DB_NAME']}`")
        cursor.execute(f"CREATE DATABASE `{env['DB_NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--fault-after", type=int, default=5)
    parser.add_argument("--broker-down", type=float, default=5)
    parser.add_argument("--db-down", type=float, default=60)
    parser.add_argument("--output", default="/tmp/bench-recovery.md")
    args = parser.parse_args()
    if not os.environ.get("DB_HOST"):
        sys.exit("needs DB_HOST (MariaDB)")

    work = Path(tempfile.mkdtemp(prefix="bench-recovery-"))
    broker = PrivateRedis(work)
    database = Relay(os.environ["DB_HOST"], int(os.environ.get("DB_PORT") or 3306))
    base = dict(os.environ, DB_PORT=os.environ.get("DB_PORT") or "3306", DB_USER=os.environ.get("DB_USER", "root"),
                DB_PASSWORD=os.environ.get("DB_PASSWORD", ""),
                DB_NAME=(os.environ.get("DB_NAME") or "paddleocr_api") + "_recovery_bench",
                REDIS_HOST="127.0.0.1", REDIS_PORT=str(broker.port), REDIS_DB="0", DATA_DIR=str(work / "data"),
                LOG_DIR=str(work / "logs"), SCAN_ROOTS=str(work / "scans"), PYTHONUNBUFFERED="1", OCR_THREADS="1",
                CELERY_WORKER_CONCURRENCY="1")
    base.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (work / "scans").mkdir()
    prepare_database(base)
    os.environ.update(base)  # this process: the bench database directly, the private broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
    import django

    django.setup()
    worker_env = dict(base, DB_PORT=str(database.port), DB_POOL_TIMEOUT="5")

    rows = []
    try:
        for fault in args.faults.split(","):
            rows.append(run_fault(fault, args, work, broker, database, worker_env))
            print(rows[-1], flush=True)
    finally:
        database.cut()
        broker.stop()
    write_report(args, rows)
    shutil.rmtree(work, ignore_errors=True)


def run_fault(fault: str, args, work: Path, broker, database, env: dict) -> dict:
    from batches import services
    from batches.models import BatchTask, OcrResult

    folder = work / "scans" / fault
    for page in range(1, args.pages + 1):
        write_page(folder / f"{page:03d}.png", [f"第{page}页", "李氏族谱世系图"])

    def task():
        return BatchTask.objects.get(pk=created.pk)

    worker = Worker(env, work / f"{fault}.log", "bench", nodename=f"bench-{fault}@%h", beat=True).wait_ready()
    try:
        started = time.monotonic()
        created = services.task_create(book_id=f"bench-{fault}", directory=str(folder),
                                       options=services.ScanOptions.from_raw({}))
        wait_for(lambda: task().processed_files >= args.fault_after, timeout=600, interval=0.1, message="pages done")
        in_flight = set(OcrResult.objects.filter(task_id=created.task_id, sent_at__isnull=False,
                                                 status__in=["pending", "processing"]).values_list("pk", flat=True))
        if fault in ("kill_same_name", "kill_new_name"):
            wait_for(lambda: OcrResult.objects.filter(task_id=created.task_id, status="processing").exists(),
                     timeout=60, interval=0.02, message="a page being read")
            worker.kill()
            name = worker.nodename if fault == "kill_same_name" else f"bench-{fault}-2@%h"
            worker = Worker(env, work / f"{fault}-2.log", "bench", nodename=name, beat=True).wait_ready()
        elif fault == "broker_restart":
            broker.restart(down_seconds=args.broker_down)
        elif fault == "db_outage":
            database.cut()
            time.sleep(args.db_down)
            database.restore()
        ended = time.monotonic()
        wait_for(lambda: not OcrResult.objects.filter(pk__in=in_flight).exclude(status__in=["success", "failed"])
                 .exists(), timeout=1200, message="the pages in flight")
        recovered = time.monotonic() - ended
        wait_for(lambda: task().status != "processing" and task().status != "queued", timeout=1200,
                 message="the book finished")
        finished = time.monotonic()
    finally:
        worker.stop()
    book = task()
    counted = OcrResult.objects.filter(task_id=book.task_id, status__in=["success", "failed"]).count()
    return {"fault": fault, "recovered_s": None if fault == "baseline" else round(recovered, 1),
            "finished_s": None if fault == "baseline" else round(finished - ended, 1),
            "book_s": round(finished - started, 1), "status": book.status,
            "pages": f"{book.processed_files}/{book.total_files}", "each_once": counted == book.processed_files,
            "interrupted": sum(OcrResult.objects.filter(task_id=book.task_id).values_list("interrupted", flat=True))}


def write_report(args, rows: list[dict]) -> None:
    from django.conf import settings

    lines = [
        "# Recovery benchmark",
        "",
        f"`.venv/bin/python bench/run_recovery.py --pages {args.pages} --fault-after {args.fault_after} "
        f"--broker-down {args.broker_down:g} --db-down {args.db_down:g}` — one worker (1 process, 1 OCR thread), "
        f"TASK_LEASE_SECONDS={settings.TASK_LEASE_SECONDS}, TASK_SWEEP_INTERVAL={settings.TASK_SWEEP_INTERVAL}, "
        f"TASK_DISPATCH_WINDOW={settings.TASK_DISPATCH_WINDOW}, TASK_DB_RETRY_WINDOW={settings.TASK_DB_RETRY_WINDOW}; "
        f"{os.cpu_count()} cores.",
        "",
        "| fault | recovered (s) | finished (s) | whole book (s) | status | pages | each page once | interruptions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['fault']} | {row['recovered_s'] if row['recovered_s'] is not None else '–'} | "
                     f"{row['finished_s'] if row['finished_s'] is not None else '–'} | {row['book_s']} | "
                     f"{row['status']} | {row['pages']} | {'yes' if row['each_once'] else 'NO'} | "
                     f"{row['interrupted']} |")
    lines += ["", "recovered: from the end of the fault (new worker ready, Redis or the database back) until the "
              "pages in flight at the fault are all done; finished: until the book completed."]
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
