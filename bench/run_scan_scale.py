"""A scan of a huge tree: how fast it is accepted, listed, polled and exported.

    .venv/bin/python bench/run_scan_scale.py                          # 100,000 files
    .venv/bin/python bench/run_scan_scale.py --files 20000 --output /tmp/bench-scan-scale.md

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; a database `<DB_NAME>_scan_bench` is dropped and
created) and `redis-server` on the PATH (a Redis of the script's own is the broker). In a temporary folder it
writes a tree of --files empty page files (`卷N/<page>.png`, 20 volumes, names in shuffled order), then:

1. accept: POST /api/ocr/batch/scan through Django's test client (the request validates the directory,
   creates the task `scanning` and sends the listing job);
2. listing: the `batches.list_task_files` job's work (listing.task_list_files) run in a process of its own,
   which reports its time until every row exists in book order and its peak RSS (VmHWM), against the
   RSS of the same process before the listing;
3. polling: the task is started and a real worker (concurrency 2) reads its pages (empty files fail fast,
   which makes a worker record pages as fast as it can: the load on the rows is what matters); meanwhile
   GET /status/<task> and GET /tasks are timed, --polls calls each;
4. export: the rows are filled in the database directly (OCR of --files pages is out of reach here: every
   row gets 200 characters of text, a confidence and 20 lines of details), then JSON and CSV exports are
   written, each in a process of its own reporting time and peak RSS.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_kb() -> int:
    return _status_kb("VmRSS")


def peak_kb() -> int:
    """The peak RSS of this process since it was exec'd (getrusage's ru_maxrss carries the parent's across
    fork and exec: it showed the bench's own peak)."""
    return _status_kb("VmHWM")


def child(mode: str, task_id: str, fmt: str = "") -> None:
    """The measured work in this process: the listing job's work, or one export. Prints one JSON line."""
    import django

    django.setup()
    from batches import services
    from batches.models import BatchTask
    from exports.services import export_create

    before = rss_kb()
    started = time.perf_counter()
    if mode == "list":
        task = services.task_list_files(task_id=task_id, send=False)
        extra = {"status": task.status, "total_files": task.total_files}
    else:
        export = export_create(task=BatchTask.objects.get(task_id=task_id), export_format=fmt)
        extra = {"pages": export.total_pages, "bytes": export.file_size}
    print(json.dumps({"seconds": time.perf_counter() - started, "rss_before_kb": before, "peak_kb": peak_kb(),
                      **extra}))


def run_child(env: dict, *args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def make_tree(folder: Path, files: int) -> None:
    names = [f"卷{1 + n % 20}/{n // 20 + 1}.png" for n in range(files)]
    random.Random(1).shuffle(names)
    for volume in range(1, 21):
        (folder / f"卷{volume}").mkdir(parents=True)
    for name in names:
        (folder / name).touch()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed_gets(client, url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return times


def fill_results(task_id: str) -> None:
    """Every row done, with text and details as a real page has (one UPDATE; no OCR)."""
    from django.db import connection

    details = json.dumps({"details": [{"text": "某" * 10, "confidence": 0.95, "box": [[0, 0], [9, 0], [9, 9], [0, 9]]}
                                      for _ in range(20)]}, ensure_ascii=False)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ocr_results SET status='success', success=1, raw_text=%s, confidence=0.9500, "
                       "json_data=%s, error_message='' WHERE task_id=%s", ["李氏族谱第一页文字" * 20, details, task_id])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--polls", type=int, default=200)
    parser.add_argument("--output", default="/tmp/bench-scan-scale.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from bench.run_recovery import prepare_database
    from bench.service_support import full_mode_env
    from tests.batch_support import PrivateRedis, Worker, wait_for

    work = Path(tempfile.mkdtemp(prefix="scan-scale-"))
    redis = PrivateRedis(work)
    env = full_mode_env(work, redis.port, "scan_bench", OCR_THREADS="1", CELERY_WORKER_CONCURRENCY="2")
    (work / "logs").mkdir()
    worker = None
    try:
        prepare_database(env)
        os.environ.update(env)
        import django

        django.setup()
        from rest_framework.test import APIClient

        from batches.models import BatchTask, OcrResult
        from ocrsite.celery import app

        started = time.perf_counter()
        make_tree(work / "scans" / "book", args.files)
        made = time.perf_counter() - started

        client = APIClient(HTTP_HOST="localhost")
        # A first request loads the URL conf, DRF and the recognition options: not part of what is measured.
        assert client.post("/api/ocr/batch/scan", {"book_id": "x", "directory": "missing"},
                           format="json").status_code == 400
        started = time.perf_counter()
        response = client.post("/api/ocr/batch/scan", {"book_id": "规模测试", "directory": "book", "auto_start": False},
                               format="json")
        accept = time.perf_counter() - started
        body = response.json()
        assert response.status_code == 201 and body["status"] == "scanning", body
        task_id = body["task_id"]
        app.control.purge()  # the job's message: its work is run below in a process of its own, measured

        listed = run_child(env, "list", task_id)
        assert listed["status"] == "pending" and listed["total_files"] == args.files, listed
        rows = OcrResult.objects.filter(task_id=task_id).count()
        first = list(OcrResult.objects.filter(task_id=task_id).order_by("sequence")
                     .values_list("relative_path", flat=True)[:3])

        assert client.post(f"/api/ocr/batch/start/{task_id}").status_code == 200
        worker = Worker(env, work / "worker.log", "scale", concurrency=2)
        worker.wait_ready()
        wait_for(lambda: BatchTask.objects.get(task_id=task_id).processed_files >= 20, timeout=120,
                 message="the worker recording pages")
        status_ms = timed_gets(client, f"/api/ocr/batch/status/{task_id}", args.polls)
        list_ms = timed_gets(client, "/api/ocr/batch/tasks", args.polls)
        processed = BatchTask.objects.get(task_id=task_id).processed_files
        worker.stop()
        worker = None
        client.post(f"/api/ocr/batch/cancel/{task_id}")

        fill_results(task_id)
        exports = {fmt: run_child(env, "export", task_id, fmt) for fmt in ("json", "csv")}
    finally:
        if worker:
            worker.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)

    mb = 1024
    lines = [
        f"# Scan of a {args.files:,}-file tree",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, 'bench/run_scan_scale.py', *sys.argv[1:]])}` "
        f"({os.cpu_count()} CPUs; MariaDB at {env['DB_HOST']}; tree written in {made:.1f} s)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| POST /batch/scan answered (201, `scanning`) | {accept * 1000:.0f} ms |",
        f"| listing: every row in book order (`pending`) | {listed['seconds']:.1f} s ({rows:,} rows) |",
        f"| listing process RSS before → peak | {listed['rss_before_kb'] / mb:.0f} → {listed['peak_kb'] / mb:.0f} MB |",
        f"| GET /status while a worker reads pages: p50 / p95 | {statistics.median(status_ms):.1f} / "
        f"{percentile(status_ms, 0.95):.1f} ms ({args.polls} calls) |",
        f"| GET /tasks at the same time: p50 / p95 | {statistics.median(list_ms):.1f} / "
        f"{percentile(list_ms, 0.95):.1f} ms ({args.polls} calls; {processed:,} pages recorded by then) |",
    ]
    for fmt, figures in exports.items():
        lines.append(f"| export {fmt.upper()} of {figures['pages']:,} pages ({figures['bytes'] / mb / mb:.0f} MB) | "
                     f"{figures['seconds']:.1f} s, RSS {figures['rss_before_kb'] / mb:.0f} → "
                     f"{figures['peak_kb'] / mb:.0f} MB |")
    lines += ["", f"First pages in book order: {', '.join(first)}.",
              "Export rows were filled in the database directly (no OCR of this many pages here)."]
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
