"""Embedded mode: no DB_HOST and no REDIS_HOST, so SQLite and kombu's file broker, with a real worker
process. `manage.py scan` runs the same scan as the full mode and follows it to the end; a worker killed
mid-book (the file broker forgets a message once taken) and started again still finishes every page once."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch_support import CELERY, ROOT, Worker, make_two_volume_book

pytestmark = pytest.mark.slow


def embedded_env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DB_HOST="", REDIS_HOST="", DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"),
               SCAN_ROOTS=str(tmp_path / "scans"), PYTHONUNBUFFERED="1", OCR_THREADS="1",
               CELERY_WORKER_CONCURRENCY="1")
    return env


def manage(env, *args, timeout=300):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def field(output: str, name: str) -> str:
    return next(part.split("=", 1)[1] for part in output.split() if part.startswith(name + "="))


@pytest.fixture
def embedded(tmp_path):
    env = embedded_env(tmp_path)
    (tmp_path / "scans").mkdir()
    assert manage(env, "migrate", "--noinput").returncode == 0
    return env


def test_embedded_mode_runs_the_same_scan(embedded, tmp_path):
    assert CELERY and "DB_HOST" in embedded
    expected = make_two_volume_book(tmp_path / "scans" / "book", pages_per_volume=4)
    worker = Worker(embedded, tmp_path / "worker.log", "embedded").wait_ready()
    try:
        scan = manage(embedded, "scan", "李氏族谱", "book", "--timeout", "240")
    finally:
        worker.stop()
    assert scan.returncode == 0, scan.stdout + scan.stderr[-3000:]
    assert "status=completed processed=8 success=8 failed=0" in scan.stdout
    assert "8/8" in scan.stderr  # the progress bar reached the end
    task_id = field(scan.stdout, "task_id")
    assert "broker filesystem" in worker.output() or "filesystem" in worker.output()
    assert (tmp_path / "data" / "paddleocr_api.sqlite3").exists()

    out = tmp_path / "book.json"
    export = manage(embedded, "export", task_id, "--format", "json", "--output", str(out))
    assert export.returncode == 0, export.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["total_pages"] == 8
    assert [(p["relative_path"], p["volume"], p["page_number"], p["raw_text"]) for p in document["pages"]] == \
        [(p, v, n, t) for p, v, n, t in expected]
    listing = manage(embedded, "tasks")
    assert task_id in listing.stdout and "completed" in listing.stdout


def test_embedded_worker_killed_mid_book_and_restarted(embedded, tmp_path):
    book = tmp_path / "scans" / "killbook"
    make_two_volume_book(book, pages_per_volume=5)
    database = tmp_path / "data" / "paddleocr_api.sqlite3"

    def counts():
        with sqlite3.connect(database, timeout=30) as connection:
            return connection.execute("select status, processed_files, total_files from batch_tasks").fetchone()

    first = Worker(embedded, tmp_path / "worker1.log", "embedded1").wait_ready()
    follow = subprocess.Popen([sys.executable, "manage.py", "scan", "kill-book", "killbook", "--timeout", "300"],
                              cwd=ROOT, env=embedded, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (counts() and counts()[1] >= 3):
            assert time.monotonic() < deadline, first.output()[-3000:]
            time.sleep(0.3)
        first.kill()
        assert counts()[0] == "processing" and counts()[1] < 10
        second = Worker(embedded, tmp_path / "worker2.log", "embedded2").wait_ready()
        try:
            stdout, stderr = follow.communicate(timeout=240)
        finally:
            second.stop()
    finally:
        if follow.poll() is None:
            follow.kill()
    assert follow.returncode == 0, stdout + stderr[-3000:]
    assert "status=completed processed=10 success=10 failed=0" in stdout
    with sqlite3.connect(database) as connection:
        rows = connection.execute("select relative_path, status from ocr_results").fetchall()
    assert len(rows) == 10 and len({path for path, _ in rows}) == 10 and {s for _, s in rows} == {"success"}
