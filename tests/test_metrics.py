"""Prometheus metrics at /metrics and request ids (ocrsite/metrics.py, ocrsite/middleware.py)."""

import logging
import re
import subprocess
import sys
import uuid

import pytest

from ocrsite import metrics, ops
from ocrsite.middleware import RequestIdFilter, request_id_var

from .deployment_support import ROOT


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(key) == str(value) for key, value in labels.items()):
            return float(match.group(4))
    return None


def test_requests_are_counted_per_route_with_latency(client):
    before = sample(scrape(client), "ocr_http_requests_total", route="/api/ocr/live", status="200") or 0
    client.get("/api/ocr/live")
    client.get("/api/ocr/live")
    text = scrape(client)
    assert sample(text, "ocr_http_requests_total", method="GET", route="/api/ocr/live", status="200") == before + 2
    assert sample(text, "ocr_http_request_duration_seconds_count", route="/api/ocr/live") >= 2
    assert sample(text, "ocr_http_request_duration_seconds_bucket", route="/api/ocr/live", le="600.0") >= 2


def test_unknown_paths_share_one_series(client):
    client.get(f"/no-such-page-{uuid.uuid4().hex}")
    text = scrape(client)
    assert sample(text, "ocr_http_requests_total", route="<unmatched>", status="404") >= 1
    assert "no-such-page" not in text


def test_pages_tasks_and_failures(client):
    metrics.record_page("batch", True, 0.4)
    metrics.record_page("batch", False)
    metrics.record_failure("task")
    text = scrape(client)
    assert sample(text, "ocr_pages_processed_total", source="batch", outcome="success") >= 1
    assert sample(text, "ocr_pages_processed_total", source="batch", outcome="failure") >= 1
    assert sample(text, "ocr_page_duration_seconds_count", source="batch") >= 1
    assert sample(text, "ocr_failures_total", kind="task") >= 1


def test_queue_depth_is_read_from_the_broker(client, settings):
    if not settings.REDIS_HOST:
        pytest.skip("needs Redis")
    queue = f"h3-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    redis = ops.redis_client()
    try:
        redis.rpush(queue, "a", "b")
        redis.rpush(f"{queue}\x06\x163", "c")  # a message of priority step 3
        text = scrape(client)
        assert sample(text, "ocr_queue_depth", queue=queue) == 3
        assert sample(text, "ocr_broker_up") == 1
    finally:
        redis.delete(queue, f"{queue}\x06\x163")
        redis.close()


def test_scrape_still_answers_when_the_broker_is_down(client, settings):
    settings.REDIS_HOST = "127.0.0.1"
    settings.REDIS_PORT = 1
    text = scrape(client)
    assert sample(text, "ocr_broker_up") == 0


def test_request_id_is_kept_or_created_and_returned(client):
    response = client.get("/api/ocr/live", HTTP_X_REQUEST_ID="abc-123.XYZ")
    assert response["X-Request-ID"] == "abc-123.XYZ"
    response = client.get("/api/ocr/live", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    response = client.get("/api/ocr/live")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_log_records_carry_the_request_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("rid-7")
    try:
        assert RequestIdFilter().filter(record) and record.request_id == "rid-7"
    finally:
        request_id_var.reset(token)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"


CHILD = """
import os, sys, django
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
django.setup()
from ocrsite import metrics, ops
metrics.record_page(sys.argv[2], True, 1.0)
metrics.HTTP_REQUESTS.labels("GET", "/x", "200").inc()
"""

SCRAPE = """
import os, sys, django
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[1]
django.setup()
from ocrsite import metrics, ops
print(metrics.render(include_queue=False)[0].decode())
"""


def test_multiprocess_mode_adds_up_processes_of_both_roles(tmp_path):
    env = {"METRICS_DIR": str(tmp_path / "metrics"), "DATA_DIR": str(tmp_path / "data"),
           "LOG_DIR": str(tmp_path / "logs"), "DB_HOST": "", "REDIS_HOST": ""}
    import os

    env = {**os.environ, **env}
    web, worker = tmp_path / "metrics" / "web", tmp_path / "metrics" / "worker"
    web.mkdir(parents=True)
    worker.mkdir(parents=True)
    for folder, source in ((web, "api"), (web, "api"), (worker, "batch")):
        subprocess.run([sys.executable, "-c", CHILD, str(folder), source], cwd=ROOT, env=env, check=True)
    out = subprocess.run([sys.executable, "-c", SCRAPE, str(web)], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    assert sample(out, "ocr_pages_processed_total", source="api", outcome="success") == 2
    assert sample(out, "ocr_pages_processed_total", source="batch", outcome="success") == 1
    assert sample(out, "ocr_http_requests_total", route="/x") == 3
    assert out.count("# HELP ocr_pages_processed_total") == 1
