"""gunicorn as configured by ocrsite/gunicorn.conf.py: a long synchronous OCR request does not block the
process's health endpoints (gthread), and is not cut off by the worker timeout."""

import io
import json
import threading
import time
import urllib.request
import uuid

import pytest

from tests.pages import render_lines

from .deployment_support import free_port, get, kill_group, manage, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow


def multipart(files: list[tuple[str, bytes]], fields: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for file_name, content in files:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{file_name}"\r\n'
                   f"Content-Type: image/png\r\n\r\n".encode())
        body.write(content + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def page(number: int) -> bytes:
    lines = [f"第{number}页 李氏族谱世系图", "光绪三十年重修 卷之一", f"Page {number} of the family record"] * 4
    buffer = io.BytesIO()
    render_lines(lines, size=36).save(buffer, format="PNG")
    return buffer.getvalue()


def test_long_batch_request_outlives_the_timeout_while_live_keeps_answering(tmp_path):
    port = free_port()
    # One process, two threads, and a worker timeout far below the batch's duration.
    env = service_env(tmp_path, embedded=True, PORT=port, WORKERS=1, GUNICORN_THREADS=2, GUNICORN_TIMEOUT=3)
    assert manage(["migrate", "--noinput"], env, timeout=180).returncode == 0
    log = tmp_path / "web.out"
    web = spawn(["runservice", "--no-worker", "--no-collectstatic"], env, log)
    base = f"http://127.0.0.1:{port}"
    outcome = {}
    try:
        wait_until(lambda: get(f"{base}/api/ocr/live", timeout=2)[0] == 200, 180, what="/live", process=web, log=log)
        body, content_type = multipart([(f"p{n}.png", page(n)) for n in range(1, 11)], {"lang": "ch"})

        def send():
            request = urllib.request.Request(f"{base}/api/ocr/recognize-batch", data=body, method="POST",
                                             headers={"Content-Type": content_type})
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=300) as response:
                outcome["status"] = response.status
                outcome["results"] = json.loads(response.read())
            outcome["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=send)
        thread.start()
        time.sleep(1.0)
        live_times = []
        while thread.is_alive() and len(live_times) < 5:
            started = time.monotonic()
            assert get(f"{base}/api/ocr/live", timeout=5)[0] == 200
            live_times.append(time.monotonic() - started)
            time.sleep(0.5)
        thread.join(300)
        metrics = get(f"{base}/metrics")[2].decode()
        code = stop(web, timeout=120)
    finally:
        kill_group(web)
    assert outcome.get("status") == 200, log.read_text()[-3000:]
    assert outcome["seconds"] > 3, "the batch should take longer than GUNICORN_TIMEOUT for this test to mean much"
    assert len(outcome["results"]) == 10 and all(item["success"] for item in outcome["results"])
    assert live_times and max(live_times) < 2.0, live_times
    assert "WORKER TIMEOUT" not in log.read_text()
    assert code == 0
    # The recognised pages are counted from the responses.
    assert 'ocr_pages_processed_total{outcome="success",source="api"} 10.0' in metrics
    assert 'ocr_page_duration_seconds_count{source="api"} 10.0' in metrics
