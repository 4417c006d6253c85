"""`manage.py runservice` (what `make run` runs) in the embedded mode: gunicorn + one Celery worker as child
processes, no database server and no Redis."""

import signal

import pytest

from .deployment_support import free_port, get, get_json, kill_group, manage, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow


def test_runservice_embedded_answers_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    env = service_env(tmp_path, embedded=True, PORT=port)
    migrated = manage(["migrate", "--noinput"], env, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    log = tmp_path / "runservice.out"
    service = spawn(["runservice"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get(f"{base}/api/ocr/live", timeout=2)[0] == 200, 180, what="/live", process=service,
                   log=log)
        wait_until(lambda: "is running (embedded mode)" in log.read_text(), 30, what="URLs printed",
                   process=service, log=log)
        text = log.read_text()
        for url in (f"http://127.0.0.1:{port}/docs", f"http://127.0.0.1:{port}/\n", "/api/ocr/health", "/metrics",
                    "/batch", "manage.py createsuperuser"):
            assert url in text, text
        status, body = get_json(f"{base}/api/ocr/ready")
        assert status == 200, body
        assert body["mode"] == "embedded"
        assert "SQLite" in body["checks"]["database"]["detail"]
        assert "embedded broker" in body["checks"]["broker"]["detail"]
        wait_until(lambda: "ready" in (tmp_path / "logs" / "celery_worker.log").read_text(), 120,
                   what="worker ready", process=service, log=log)
        code = stop(service, signal.SIGTERM, timeout=120)
    finally:
        kill_group(service)
    assert code == 0, log.read_text()
    text = log.read_text()
    assert "Shutting down: Master" in text
    assert "Warm shutdown" in text
    assert "stopped (web 0, worker 0)" in text
    assert "No hostname was supplied" not in text + (tmp_path / "logs" / "celery_worker.log").read_text()
    # Nothing listens any more.
    with pytest.raises(OSError):
        get(f"{base}/api/ocr/live", timeout=2)


def test_runservice_exits_with_an_error_when_a_child_dies(tmp_path):
    port = free_port()
    env = service_env(tmp_path, embedded=True, PORT=port, OCR_WARMUP="false")
    manage(["migrate", "--noinput"], env, timeout=180)
    log = tmp_path / "runservice.out"
    service = spawn(["runservice", "--no-collectstatic"], env, log)
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/api/ocr/live", timeout=2)[0] == 200, 120, what="/live",
                   process=service, log=log)
        pid = wait_until(lambda: int(next(line for line in log.read_text().splitlines()
                                          if line.startswith("started worker")).split("pid ")[1].split(")")[0]),
                         10, what="worker pid")
        import os

        os.kill(pid, signal.SIGKILL)
        code = service.wait(120)
    finally:
        kill_group(service)
    assert code == 1, log.read_text()
    assert "worker exited with status" in log.read_text()
