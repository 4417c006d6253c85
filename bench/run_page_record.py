"""What recording one page costs the database (batches.services.pages.page_record, what every worker does
after reading a page), with the search index and without it, side by side in one run.

    DB_HOST=127.0.0.1 DB_PORT=3306 DB_USER=... DB_PASSWORD=... .venv/bin/python bench/run_page_record.py
    .venv/bin/python bench/run_page_record.py --code-root /tmp/before      # another checkout's page_record

A checkout given with --code-root must take page_record(task=, result=, fields=) (from 9199f8f on).

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; a database `<DB_NAME>_record_bench` is dropped,
created and migrated). A child process (Django set up once) makes a task of --pages pages and records them
one by one with generated genealogy text (bench/run_search.py's: about 590 characters a page in lines of
22), as a worker does: the row, the task's counters and progress, the search index, in one transaction
under the task's row lock. Rounds alternate between recording with the index and with the index switched
off (search_index.page_index replaced by a no-op), --rounds times each, so that both see the same load. The
first 10 pages of each round are not counted (connection and caches warming up). Reported: mean, p50 and
p95 milliseconds per page. The index's rows are written for SEARCH_INDEX_BATCH pages at once (the
environment's, 16 by default; 1 = page by page): the mean spreads them over the pages, the p95 is the pages
that write them.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARMUP = 10


def record_round(label: str, pages: int, rng: random.Random) -> list[float]:
    from bench.run_search import json_data, page_lines
    from batches.models import BatchTask, OcrResult
    from batches.services import pages as page_services
    from books.models import Book
    from core.statuses import TaskStatus

    book = Book.objects.create(book_id=f"record-{label}-{uuid.uuid4().hex[:8]}")
    # One page more than recorded: the task stays unfinished, as it is for every page but a book's last.
    task = BatchTask.objects.create(book=book, source_directory="/tmp", status=TaskStatus.PROCESSING,
                                    total_files=pages + 1)
    OcrResult.objects.bulk_create(OcrResult(task=task, relative_path=f"{n:05d}.png", path_hash=f"{n:064x}",
                                            sequence=n, status="processing") for n in range(pages + 1))
    rows = list(OcrResult.objects.filter(task=task).order_by("sequence"))[:pages]
    times = []
    for number, row in enumerate(rows):
        lines = page_lines(rng, "陈", "德明仁义礼智信忠孝传家", number)
        fields = {"success": True, "raw_text": "\n".join(lines), "json_data": json_data(lines),
                  "confidence": 0.97, "processing_time": 1.2, "error_message": ""}
        started = time.perf_counter()
        page_services.page_record(task=task, result=row, fields=fields)
        times.append((time.perf_counter() - started) * 1000)
    return times[WARMUP:]


def child(pages: int, rounds: int) -> None:
    # The child runs in the checkout under test (its cwd): its code first, not this script's checkout.
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from batches.services import search_index

    indexed = search_index.page_index
    rng = random.Random(11)
    samples = {"with the search index": [], "without the search index": []}
    for round_ in range(rounds):
        search_index.page_index = indexed
        samples["with the search index"] += record_round(f"index{round_}", pages, rng)
        search_index.page_index = lambda **kwargs: None
        samples["without the search index"] += record_round(f"plain{round_}", pages, rng)
    print(json.dumps({label: {"pages": len(times), "mean": statistics.mean(times), "p50": statistics.median(times),
                              "p95": sorted(times)[int(len(times) * 0.95)]}
                      for label, times in samples.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--code-root", type=Path, help="record with this checkout's code (default: this one)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), int(args.child[1]))
        return
    if not os.environ.get("DB_HOST"):
        sys.exit("needs DB_HOST (MariaDB)")
    from bench.run_recovery import prepare_database

    code_root = (args.code_root or ROOT).resolve()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ocrsite.settings", PYTHONUNBUFFERED="1", DB_NAME=os.environ.get("DB_NAME", "paddleocr_api") + "_record_bench",
               DB_PORT=os.environ.get("DB_PORT", "3306"), DB_USER=os.environ.get("DB_USER", "root"),
               DB_PASSWORD=os.environ.get("DB_PASSWORD", ""), PYTHONPATH=f"{code_root}:{ROOT}")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    prepare_database(env)
    load = os.getloadavg()[0]
    run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(args.pages), str(args.rounds)],
                         cwd=code_root, env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(run.stderr[-5000:])
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"page_record, {code_root} ({args.rounds} rounds of {args.pages} pages each way; "
          f"load average {load:.1f} → {os.getloadavg()[0]:.1f})\n")
    print("| recording a page | pages | mean ms | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for label, row in figures.items():
        print(f"| {label} | {row['pages']} | {row['mean']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} |")


if __name__ == "__main__":
    main()
