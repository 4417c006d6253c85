"""What the job system costs a page in the worker's own process: `page_process` (claim, lease, record,
counters, progress, the window's top-up and its message) with the engine left out, side by side for one or
more checkouts in one run.

    DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=... DB_PASSWORD=... .venv/bin/python bench/run_page_job.py
    .venv/bin/python bench/run_page_job.py --code-root /tmp/before --code-root .   # an older checkout first

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; a database `<DB_NAME>_job_bench` is dropped, created
and migrated) and `redis-server` on the PATH (a Redis of the script's own takes the top-up's messages). For
each round and each checkout, a child process (Django set up once, that checkout's code) makes a task of
--pages pages with a window of TASK_DISPATCH_WINDOW pages sent, as a started task has, and runs
`page_process` on them in book order with the page's reading replaced by a blank page's outcome (no text: no
search index, no details) or, with --page book, by a genealogy page's (bench/run_search.py's text: about 590
characters in lines of 22, each line's box, the search index written): what is left is what the job system
does for every page. Rounds alternate
between the checkouts, so that all see the same load. The first 20 pages of a round are not counted.
Reported: mean and p50 milliseconds per page for the claim, the record and the whole, and the statements a
page sends to the database (BEGIN and COMMIT included).

Left out, and measured by bench/run_batch.py's `cost` part instead: Celery's delivery of the message to the
prefork child and its acknowledgement, and the database connection a task opens (the worker keeps it).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARMUP = 20


def blank_outcome(task, result) -> dict:
    """What reading a 64x64 blank PNG gives a page: success, no text."""
    return {"file_size": 120, "content_hash": "0" * 64, "success": True, "raw_text": "",
            "json_data": {"details": [], "processing_time": 0.07, "width": 64, "height": 64},
            "confidence": Decimal("0"), "processing_time": Decimal("0.070"), "error_message": ""}


def book_outcome(task, result) -> dict:
    """What reading a generated genealogy page gives: its text and lines, as a worker stores them."""
    import random

    from bench.run_search import json_data, page_lines

    lines = page_lines(random.Random(result.sequence), "陈", "德明仁义礼智信忠孝传家", result.sequence)
    return {"file_size": 250_000, "content_hash": "0" * 64, "success": True, "raw_text": "\n".join(lines),
            "json_data": json_data(lines), "confidence": Decimal("0.9700"), "processing_time": Decimal("1.200"),
            "error_message": ""}


OUTCOMES = {"blank": blank_outcome, "book": book_outcome}


def child(pages: int, page: str) -> None:
    # The child runs in the checkout under test (its cwd): its code first, not this script's checkout.
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    import logging

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from batches.models import BatchTask, OcrResult
    from batches.services import pages as page_services
    from books.models import Book
    from core.statuses import TaskStatus

    logging.disable(logging.INFO)
    page_services._recognize = OUTCOMES[page]
    timings = {"claim": [], "record": []}

    def timed(name, function):
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timings[name].append(1000 * (time.perf_counter() - started))
        return run

    page_services.page_claim = timed("claim", page_services.page_claim)
    page_services.page_record = timed("record", page_services.page_record)
    book = Book.objects.create(book_id=f"job-{uuid.uuid4().hex[:8]}")
    # One page more than read: the task stays unfinished, as it is for every page but a book's last.
    task = BatchTask.objects.create(book=book, source_directory="/tmp", status=TaskStatus.PROCESSING,
                                    total_files=pages + 1)
    window, now = settings.TASK_DISPATCH_WINDOW, timezone.now()
    OcrResult.objects.bulk_create(OcrResult(task=task, relative_path=f"{n:05d}.png", path_hash=f"{n:064x}",
                                            sequence=n, status="pending", sent_at=now if n < window else None)
                                  for n in range(pages + 1))
    ids = list(OcrResult.objects.filter(task=task).order_by("sequence").values_list("pk", flat=True))[:pages]
    totals, statements = [], 0
    for number, result_id in enumerate(ids):
        started = time.perf_counter()
        if number == WARMUP:
            with CaptureQueriesContext(connection) as queries:
                page_services.page_process(result_id=result_id, holder="bench@job pid 1")
            statements = len(queries.captured_queries)
        else:
            page_services.page_process(result_id=result_id, holder="bench@job pid 1")
        totals.append(1000 * (time.perf_counter() - started))
    print(json.dumps({"claim": timings["claim"][WARMUP:], "record": timings["record"][WARMUP:],
                      "total": totals[WARMUP:], "statements": statements}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--page", choices=sorted(OUTCOMES), default="blank",
                        help="what each page's reading gives: a blank page (no text) or a genealogy page")
    parser.add_argument("--code-root", type=Path, action="append",
                        help="a checkout whose page_process to run (repeat to compare; default: this one)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.page)
        return
    if not os.environ.get("DB_HOST"):
        sys.exit("needs DB_HOST (MariaDB)")
    from bench.run_recovery import prepare_database
    from bench.service_support import full_mode_env, load_average
    from tests.batch_support import PrivateRedis

    roots = [root.resolve() for root in args.code_root or [ROOT]]
    work = Path(tempfile.mkdtemp(prefix="page-job-bench-"))
    redis = PrivateRedis(work)
    samples = {root: {"claim": [], "record": [], "total": [], "statements": 0} for root in roots}
    load = load_average()
    try:
        env = full_mode_env(work, redis.port, "job_bench")
        prepare_database(env)
        for _ in range(args.rounds):
            for root in roots:
                run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(args.pages),
                                      "--page", args.page],
                                     cwd=root, env={**env, "PYTHONPATH": f"{root}:{ROOT}"}, capture_output=True,
                                     text=True)
                if run.returncode:
                    sys.exit(run.stderr[-5000:])
                figures = json.loads(run.stdout.strip().splitlines()[-1])
                for part in ("claim", "record", "total"):
                    samples[root][part] += figures[part]
                samples[root]["statements"] = figures["statements"]
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"page_process without the engine, {args.page} pages, {args.rounds} rounds of {args.pages} pages "
          f"(load average {load} -> {load_average()})\n")
    print("| code | claim mean / p50 ms | record mean / p50 ms | page mean / p50 ms | statements a page |")
    print("|---|---|---|---|---|")
    for root, parts in samples.items():
        cells = [f"{statistics.mean(parts[part]):.2f} / {statistics.median(parts[part]):.2f}"
                 for part in ("claim", "record", "total")]
        print(f"| {root} | {' | '.join(cells)} | {parts['statements']} |")


if __name__ == "__main__":
    main()
