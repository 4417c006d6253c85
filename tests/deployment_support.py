"""Helpers of the deployment tests: free ports, child processes of manage.py, HTTP polling."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(tmp_path: Path, embedded: bool = False, **extra) -> dict:
    """The environment of a service started by a test: its own DATA_DIR and LOG_DIR; embedded drops
    DB_HOST/REDIS_HOST (set to empty, so that a .env file cannot bring them back)."""
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"), PYTHONUNBUFFERED="1",
               WORKERS="1", CELERY_WORKER_CONCURRENCY="1", GUNICORN_THREADS="2", OCR_THREADS="1",
               HOST="127.0.0.1", SECRET_KEY="test-" + "k" * 40, DB_WAIT_TIMEOUT="20")
    env.pop("SCAN_ROOTS", None)
    if embedded:
        env.update(DB_HOST="", REDIS_HOST="")
    if env.get("DB_HOST") and not embedded:
        # A database of these tests' own, recreated once per test session: the services they start
        # migrate it to the current migrations (pytest-django's test_<DB_NAME> is for in-process tests).
        env["DB_NAME"] = (env.get("DB_NAME") or "paddleocr_api") + "_deploy"
    env.update({key: str(value) for key, value in extra.items()})
    if env.get("DB_HOST") and not extra.get("DB_PORT") and not extra.get("DB_NAME"):
        ensure_database(env)
    return env


def manage(args: list[str], env: dict, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen([PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=handle,
                            stderr=subprocess.STDOUT, start_new_session=True)


@contextlib.contextmanager
def serving(args: list[str], env: dict, log: Path, path: str = "/api/ocr/live", timeout: float = 180):
    """A service started by spawn(args) on env's HOST:PORT, once `path` answers 200: yields its base URL, and
    kills its process group afterwards."""
    process = spawn(args, env, log)
    base = f"http://{env.get('HOST') or '127.0.0.1'}:{env['PORT']}"
    try:
        wait_until(lambda: get(base + path, timeout=2)[0] == 200, timeout, what=path, process=process, log=log)
        yield base
    finally:
        kill_group(process)


def get(url: str, timeout: float = 10, headers: dict | None = None):
    """(status, headers, body) of a GET; never raises for an HTTP error status."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str, timeout: float = 10):
    status, _, body = get(url, timeout)
    return status, json.loads(body)


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition", process=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, urllib.error.URLError, ValueError):
            pass
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process exited ({process.returncode}) while waiting for {what}:\n{tail(log)}")
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{tail(log)}")


def tail(log: Path | None, lines: int = 60) -> str:
    if log is None or not Path(log).exists():
        return ""
    return "\n".join(Path(log).read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
        raise AssertionError(f"process {process.pid} did not stop within {timeout} s after {sig!r}") from None


def kill_group(process: subprocess.Popen) -> None:
    """Last-resort cleanup: the process group of a child started by spawn()."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(10)


_recreated: set[str] = set()


def ensure_database(env: dict) -> None:
    """Drops and creates DB_NAME (utf8mb4) on the MySQL/MariaDB server of `env`, once per test session."""
    name = env.get("DB_NAME") or "paddleocr_api"
    if not env.get("DB_HOST") or name in _recreated:
        return
    assert name.endswith("_deploy"), name  # never a database these tests do not own
    import MySQLdb

    connection = MySQLdb.connect(host=env["DB_HOST"], port=int(env.get("DB_PORT") or 3306),
                                 user=env.get("DB_USER") or "root", password=env.get("DB_PASSWORD") or "",
                                 connect_timeout=5)
    try:
        cursor = connection.cursor()
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        connection.close()
    _recreated.add(name)
