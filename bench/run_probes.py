"""Probe latency while every OCR thread is busy: `/api/ocr/live` and `/api/ocr/ready` timed while clients
hammer `/api/ocr/recognize`, with the admission of recognition requests on (the default,
OCR_MAX_REQUESTS_PER_PROCESS = GUNICORN_THREADS - 1) and off (= GUNICORN_THREADS: every thread may take a
recognition, as before), side by side in one run.

    .venv/bin/python bench/run_probes.py [--clients 20] [--seconds 60] [--workers 2] [--threads 8]

Each setting starts `manage.py runservice --no-worker` (embedded mode, its own DATA_DIR) on a free port.
Clients post one rendered 1-megapixel page each, again and again (a BUSY answer is retried after its
Retry-After); one prober asks /live and /ready in turn every 0.2 s. Reported: probe p50/p95/max, the
recognitions done per second and the BUSY answers.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_support import free_port, multipart, percentile  # noqa: E402
from tests.pages import render_lines  # noqa: E402


def page_png() -> bytes:
    lines = ["李氏族谱世系图 光绪三十年重修", "Page 12 of the family record"] * 8
    buffer = io.BytesIO()
    render_lines(lines, size=40).save(buffer, format="PNG")
    return buffer.getvalue()


def run(label: str, args, extra_env: dict) -> dict:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"probes-{label}-"))
    env = {**os.environ, "DB_HOST": "", "REDIS_HOST": "", "DATA_DIR": str(data_dir), "LOG_DIR": str(data_dir / "logs"),
           "PORT": str(port), "HOST": "127.0.0.1", "WORKERS": str(args.workers), "GUNICORN_THREADS": str(args.threads),
           "PYTHONUNBUFFERED": "1", **extra_env}
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    service = subprocess.Popen([python, "manage.py", "runservice", "--no-worker", "--no-collectstatic"], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if urllib.request.urlopen(f"{base}/api/ocr/ready", timeout=5).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        body, content_type = multipart(page_png())
        stop_at = time.monotonic() + args.seconds
        done, busy, failed, probes = [0], [0], [0], []

        def client():
            while time.monotonic() < stop_at:
                request = urllib.request.Request(f"{base}/api/ocr/recognize", data=body, method="POST",
                                                 headers={"Content-Type": content_type})
                try:
                    with urllib.request.urlopen(request, timeout=600) as response:
                        json.loads(response.read())
                        done[0] += 1
                except urllib.error.HTTPError as error:
                    if error.code == 503:
                        busy[0] += 1
                        time.sleep(float(error.headers.get("Retry-After") or 1))
                    else:
                        failed[0] += 1

        def prober():
            paths = ["/api/ocr/live", "/api/ocr/ready"]
            while time.monotonic() < stop_at:
                started = time.monotonic()
                with urllib.request.urlopen(base + paths[len(probes) % 2], timeout=120) as response:
                    response.read()
                probes.append(time.monotonic() - started)
                time.sleep(0.2)

        threads = [threading.Thread(target=client) for _ in range(args.clients)] + [threading.Thread(target=prober)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        os.killpg(service.pid, 15)
        service.wait(timeout=120)
    return {"label": label, "probes": len(probes), "p50_ms": 1000 * statistics.median(probes),
            "p95_ms": 1000 * percentile(probes, 0.95), "max_ms": 1000 * max(probes),
            "recognitions_per_s": done[0] / elapsed, "busy": busy[0], "failed": failed[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    rows = [run("admission on (default)", args, {}),
            run("admission off (all threads take OCR)", args, {"OCR_MAX_REQUESTS_PER_PROCESS": str(args.threads)})]
    print(f"{args.clients} clients for {args.seconds} s, {args.workers} gunicorn workers x {args.threads} threads")
    print("| setting | probes | p50 ms | p95 ms | max ms | recognitions/s | BUSY | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['label']} | {row['probes']} | {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {row['max_ms']:.0f} "
              f"| {row['recognitions_per_s']:.2f} | {row['busy']} | {row['failed']} |")


if __name__ == "__main__":
    main()
