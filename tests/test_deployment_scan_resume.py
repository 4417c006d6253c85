"""Issue #6's done-when: run a scan through the deployed services, stop the worker with SIGTERM in the middle
of the book, and see the remaining pages finished by a new worker.

Services as deployed: `manage.py start web` (gunicorn) and `manage.py start worker` (Celery) on the real
MariaDB (DB_NAME) and Redis (REDIS_DB) of this machine; everything goes through the HTTP API.
"""

import json
import os
import signal
import time
import urllib.request

import pytest

from tests.pages import render_lines

from .deployment_support import free_port, get, get_json, kill_group, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow

PAGES = 40


def post_json(url: str, payload: dict):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, body.decode(errors="replace")[:2000]


def write_book(folder, pages: int):
    folder.mkdir(parents=True)
    for page in range(1, pages + 1):
        lines = [f"第一卷第{page}页", "李氏族谱世系图", f"Page {page} of the genealogy", "光绪三十年重修"]
        render_lines(lines, size=32, margin=40).save(folder / f"卷一_{page:03d}.png")


def test_sigterm_mid_book_hands_remaining_pages_to_a_new_worker(tmp_path):
    if not os.environ.get("DB_HOST") or not os.environ.get("REDIS_HOST"):
        pytest.skip("needs DB_HOST and REDIS_HOST (MariaDB and Redis)")
    import redis

    scans = tmp_path / "scans"
    book = scans / "李氏族谱"
    write_book(book, PAGES)
    port = free_port()
    env = service_env(tmp_path, PORT=port, SCAN_ROOTS=scans, OCR_WARMUP="true")
    # This test's Redis database holds nothing from an earlier run.
    redis.Redis(host=env["REDIS_HOST"], port=int(env.get("REDIS_PORT") or 6379), db=int(env["REDIS_DB"])).flushdb()
    base = f"http://127.0.0.1:{port}"
    web_log, first_log, second_log = tmp_path / "web.out", tmp_path / "worker1.out", tmp_path / "worker2.out"
    web = spawn(["start", "web"], env, web_log)
    first = second = None
    try:
        wait_until(lambda: get(f"{base}/api/ocr/ready", timeout=5)[0] == 200, 180, what="web ready", process=web,
                   log=web_log)
        first = spawn(["start", "worker"], {**env, "LOG_DIR": str(tmp_path / "logs-worker1")}, first_log)
        wait_until(lambda: "OCR engine warm" in (tmp_path / "logs-worker1" / "celery_worker.log").read_text(), 180,
                   what="first worker warm", process=first, log=first_log)

        status, created = post_json(f"{base}/api/ocr/batch/scan",
                                    {"book_id": f"deploy-{time.time_ns()}", "directory": str(book), "lang": "ch"})
        assert status == 201, created
        task_id = created["task_id"]
        assert created["total_files"] == PAGES

        def progress():
            return get_json(f"{base}/api/ocr/batch/status/{task_id}")[1]

        wait_until(lambda: progress()["processed_files"] >= 3, 180, interval=0.2, what="3 pages done",
                   process=first, log=first_log)
        code = stop(first, signal.SIGTERM, timeout=120)  # warm shutdown: the running page finishes
        assert code == 0, first_log.read_text()[-3000:]
        assert "Warm shutdown" in first_log.read_text()
        stopped = progress()
        assert stopped["status"] in {"queued", "processing"}, stopped
        assert 3 <= stopped["processed_files"] < PAGES, stopped
        time.sleep(2)
        assert progress()["processed_files"] == stopped["processed_files"]  # nobody works on it now

        second = spawn(["start", "worker"], {**env, "LOG_DIR": str(tmp_path / "logs-worker2")}, second_log)
        done = wait_until(lambda: (lambda p: p if p["status"] in {"completed", "failed"} else None)(progress()),
                          600, interval=1, what="book completed by the second worker", process=second,
                          log=second_log)
        assert done["status"] == "completed", done
        assert done["processed_files"] == PAGES and done["success_files"] == PAGES, done
        assert done["failed_files"] == 0

        export_status, export = post_json(f"{base}/api/ocr/batch/export", {"task_id": task_id, "format": "json"})
        assert export_status == 200, export
        assert export["total_pages"] == PAGES  # every page once: none lost, none twice
        # The pages were shared: some by the first worker, the rest by the second.
        second_pages = (tmp_path / "logs-worker2" / "celery_worker.log").read_text().count("batches.process_page")
        assert second_pages > 0
        # The web /metrics adds up the worker of this machine: the pages the second worker did.
        text = get(f"{base}/metrics")[2].decode()
        line = next(line for line in text.splitlines()
                    if line.startswith('ocr_pages_processed_total{outcome="success",source="batch"}'))
        assert 0 < float(line.split()[-1]) <= PAGES
        assert 'ocr_celery_tasks_total{outcome="success",task="batches.process_page"}' in text
    finally:
        for process in (second, first, web):
            if process is not None:
                try:
                    stop(process, signal.SIGTERM, timeout=120)
                finally:
                    kill_group(process)
