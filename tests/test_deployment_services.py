"""The full mode as deployed: `manage.py start web` (gunicorn) and `manage.py start worker` (Celery) against
the real MariaDB and Redis of this machine, as the Docker entrypoint and the by-hand deployment run them."""

import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from .deployment_support import ROOT, free_port, get, get_json, kill_group, manage, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def full_env(tmp_path):
    if not os.environ.get("DB_HOST") or not os.environ.get("REDIS_HOST"):
        pytest.skip("needs DB_HOST and REDIS_HOST (MariaDB and Redis)")
    port = free_port()
    env = service_env(tmp_path, PORT=port)
    return env, port


def test_start_web_and_worker_serve_live_ready_metrics_and_stop_on_sigterm(full_env, tmp_path):
    env, port = full_env
    base = f"http://127.0.0.1:{port}"
    web_log, worker_log = tmp_path / "web.out", tmp_path / "worker.out"
    worker_metrics = free_port()
    web = spawn(["start", "web"], env, web_log)
    worker = spawn(["start", "worker"], {**env, "WORKER_METRICS_PORT": str(worker_metrics)}, worker_log)
    try:
        # The web role migrates; the worker waits for the migrations, then both warm their engine.
        wait_until(lambda: get(f"{base}/api/ocr/live", timeout=2)[0] == 200, 180, what="web /live",
                   process=web, log=web_log)
        status, body = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(get_json(f"{base}/api/ocr/ready")),
                                  60, what="web /ready 200", process=web, log=web_log)
        assert body["status"] == "ready" and body["mode"] == "full"
        assert body["checks"]["database"]["ok"] and env["DB_NAME"] in body["checks"]["database"]["detail"]
        assert body["checks"]["broker"]["ok"] and "Redis" in body["checks"]["broker"]["detail"]
        assert body["checks"]["engine"]["detail"] == "loaded"  # warmed in post_worker_init

        status, headers, _ = get(f"{base}/api/ocr/live", headers={"X-Request-ID": "deploy-test-42"})
        assert status == 200 and headers["X-Request-ID"] == "deploy-test-42"

        logs = tmp_path / "logs"
        wait_until(lambda: "ocr@" in (logs / "celery_worker.log").read_text() and
                   "ready" in (logs / "celery_worker.log").read_text(), 120, what="worker ready in celery_worker.log",
                   process=worker, log=worker_log)
        # The worker child warms its engine too, and the web /metrics adds up both roles of this machine.
        wait_until(lambda: "OCR engine warm" in (logs / "celery_worker.log").read_text(), 120,
                   what="worker warm-up", process=worker, log=worker_log)

        status, headers, payload = get(f"{base}/metrics")
        text = payload.decode()
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert re.search(r'ocr_http_requests_total\{method="GET",route="/api/ocr/live",status="200"\} [1-9]', text)
        assert "ocr_http_request_duration_seconds_bucket" in text
        assert re.search(r"^ocr_engines_loaded 2\.0$", text, re.M), text  # 1 gunicorn process + 1 worker child
        assert re.search(r'^ocr_queue_depth\{queue="celery"\} \d', text, re.M)
        assert re.search(r"^ocr_broker_up 1\.0$", text, re.M)

        # The worker serves its own metrics (for workers on other machines or containers)...
        status, _, payload = get(f"http://127.0.0.1:{worker_metrics}/metrics")
        assert status == 200 and re.search(r"^ocr_engines_loaded 1\.0$", payload.decode(), re.M)
        # ...and answers the ping that docker-compose.yml's health check sends.
        ping = subprocess.run([sys.executable, "-m", "celery", "-A", "ocrsite", "inspect", "ping", "--destination",
                               f"ocr@{socket.gethostname()}", "--timeout", "10"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert "pong" in ping.stdout, ping.stdout + ping.stderr
        # The image's HEALTHCHECK command, for each role (the role file says "worker": started last).
        for role in ("web", "worker"):
            check = manage(["healthcheck", "--role", role], env, timeout=60)
            assert check.returncode == 0, (role, check.stderr)
        assert (tmp_path / "data" / "metrics" / "role").read_text() in {"web", "worker"}

        # gunicorn's access log goes through Python logging into the rotated api.log, with the request id.
        access = wait_until(lambda: [line for line in (logs / "api.log").read_text().splitlines()
                                     if "gunicorn.access" in line and "rid=deploy-test-42" in line], 10,
                            what="access line in api.log")
        assert '"GET /api/ocr/live HTTP/1.1" 200' in access[0]
    finally:
        codes = {}
        for name, process in (("web", web), ("worker", worker)):
            try:
                codes[name] = stop(process, signal.SIGTERM, timeout=90)
            finally:
                kill_group(process)
    assert codes == {"web": 0, "worker": 0}, codes
    for role in ("web", "worker"):
        check = manage(["healthcheck", "--role", role, "--timeout", "2"], env, timeout=60)
        assert check.returncode == 1 and check.stderr.strip(), (role, check.stderr)
    assert "Shutting down: Master" in web_log.read_text()
    assert "Warm shutdown" in worker_log.read_text()


def test_start_waits_for_the_database_and_explains_the_fix(tmp_path):
    env = service_env(tmp_path, DB_HOST="127.0.0.1", DB_PORT=free_port(), REDIS_HOST="")
    result = manage(["start", "web", "--wait", "2", "--dry-run"], env, timeout=60)
    assert result.returncode != 0
    assert "the database is not available after 2 s" in result.stderr
    assert "start the database server" in result.stderr


def test_start_dry_run_prints_the_worker_command_with_its_limits(full_env):
    env, _ = full_env
    env.update(CELERY_WORKER_MAX_TASKS_PER_CHILD="77", CELERY_WORKER_MAX_MEMORY_PER_CHILD="123456",
               CELERY_WORKER_CONCURRENCY="3")
    result = manage(["start", "worker", "--dry-run", "--migrate"], env, timeout=180)
    assert result.returncode == 0, result.stderr
    command = result.stdout.strip().splitlines()[-1]
    for part in ("-m celery -A ocrsite worker", "--pool=prefork", "--concurrency=3", "--max-tasks-per-child=77",
                 "--max-memory-per-child=123456", "--hostname=ocr@%h"):
        assert part in command, command
