"""Helpers of the batch-scanning tests: books of real rendered pages under SCAN_ROOTS, a real Celery worker
process on the test database and the test Redis database, and polling.

The worker is a child process (`celery -A ocrsite worker --pool=prefork --concurrency=1`) with this
process's environment, except DB_NAME: pytest-django runs the tests on `test_<DB_NAME>`, so the worker is
pointed at that database. Tests that hand work to the worker must commit it, hence
`@pytest.mark.django_db(transaction=True)` on them.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pages import render_lines

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
SMALL = 28  # font size: small pages keep the CPU time low


def page_text(volume: int, page: int) -> str:
    return f"第{volume}卷第{page}页"


def write_page(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    render_lines(lines, size=SMALL, margin=30).save(path)


def new_book_dir(name: str = "book") -> Path:
    """A fresh folder under the first scan root (the worker sees the same SCAN_ROOTS)."""
    from django.conf import settings

    folder = settings.SCAN_ROOTS[0] / f"{name}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    return folder


def make_two_volume_book(folder: Path, pages_per_volume: int = 15) -> list[tuple[str, int, int, str]]:
    """Volume 1 in a folder `卷一/` named `1.png` … (natural order: 2 before 10), volume 2 as flat files
    `卷2-001.png` …, written in a shuffled order. Returns (relative_path, volume, page, text) in book order."""
    import random

    expected = []
    for page in range(1, pages_per_volume + 1):
        expected.append((f"卷一/{page}.png", 1, page, page_text(1, page)))
    for page in range(1, pages_per_volume + 1):
        expected.append((f"卷2-{page:03d}.png", 2, page, page_text(2, page)))
    shuffled = expected[:]
    random.Random(4).shuffle(shuffled)
    for relative_path, _, _, text in shuffled:
        write_page(folder / relative_path, [text])
    return expected


def child_env(**extra) -> dict:
    """This process's environment for a child process, on the database the tests use."""
    from django.db import connection

    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(PYTHONUNBUFFERED="1", OCR_THREADS="1", CELERY_WORKER_CONCURRENCY="1")
    if connection.vendor == "mysql":
        env["DB_NAME"] = connection.settings_dict["NAME"]
    env.update({key: str(value) for key, value in extra.items()})
    return env


class Worker:
    """A Celery worker process group started for a test; with beat=True it embeds the beat that sends the
    sweeper (as `manage.py start worker` does)."""

    def __init__(self, env: dict, log: Path, name: str, nodename: str | None = None, beat: bool = False,
                 concurrency: int = 1):
        self.nodename = nodename or f"{name}-{uuid.uuid4().hex[:6]}@%h"
        self.log = log
        self.handle = open(log, "ab")
        self.process = subprocess.Popen(
            [CELERY, "-A", "ocrsite", "worker", "--pool=prefork", f"--concurrency={concurrency}", "-l", "info",
             "-n", self.nodename, "--without-gossip", "--without-mingle",
             "--without-heartbeat", *(["--beat"] if beat else [])],
            cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            if " ready." in self.output():
                return self
            time.sleep(0.3)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.output()[-4000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL to the whole group: the main process and its pool child, mid-page."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()


def purge_broker() -> None:
    """Empties the test broker: waiting messages, and on Redis the messages a killed worker left
    unacknowledged (which would otherwise come back after the visibility timeout, in a later test)."""
    from django.conf import settings

    from ocrsite.celery import app

    app.control.purge()
    if settings.REDIS_HOST:
        import redis

        client = redis.Redis(host=settings.REDIS_HOST, port=settings.REDIS_PORT, db=settings.REDIS_DB,
                             password=settings.REDIS_PASSWORD or None)
        client.delete("unacked", "unacked_index", "unacked_mutex")


def queued_page_ids(**redis_options) -> list[int]:
    """The OcrResult ids of the process_page messages waiting in the test broker's queues (Redis), oldest
    first. redis_options: another Redis than the settings' (host, port, db)."""
    import base64
    import json

    import redis
    from django.conf import settings

    from ocrsite.metrics import queue_names

    options = {"host": settings.REDIS_HOST, "port": settings.REDIS_PORT, "db": settings.REDIS_DB, **redis_options}
    client = redis.Redis(**options)
    ids = []
    for name in queue_names():
        for key in [name] + [f"{name}\x06\x16{step}" for step in range(1, 10)]:
            for raw in reversed(client.lrange(key, 0, -1)):  # kombu pushes on the left, pops on the right
                message = json.loads(raw)
                if message["headers"].get("task") == "batches.process_page":
                    ids.append(json.loads(base64.b64decode(message["body"]))[0][0])
    client.close()
    return ids


class PrivateRedis:
    """A Redis server of a test's own, without persistence (`--save '' --appendonly no`), so that a restart
    loses every queued message, as a broker restarted without persistence does."""

    def __init__(self, tmp_path: Path):
        from tests.deployment_support import free_port

        self.port = free_port()
        self.folder = tmp_path
        self.process = None
        self.start()

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port)
        wait_for(lambda: _answers(client), timeout=20, message="private redis up")
        client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, down_seconds: float = 0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


def _answers(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@contextmanager
def running_worker(tmp_path: Path, name: str = "worker", nodename: str | None = None, beat: bool = False,
                   concurrency: int = 1, **env):
    log = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}.log"
    worker = Worker(child_env(**env), log, name, nodename, beat, concurrency).wait_ready()
    try:
        yield worker
    finally:
        worker.stop()


def wait_for(predicate, timeout: float = 120, interval: float = 0.3, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def task_row(task_id: str):
    from batches.models import BatchTask

    return BatchTask.objects.get(task_id=task_id)


def wait_finished(task_id: str, timeout: float = 180):
    from core.statuses import FINISHED_STATUSES

    return wait_for(lambda: (lambda t: t if t.status in FINISHED_STATUSES else None)(task_row(task_id)),
                    timeout=timeout, message=f"task {task_id} to finish")


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker for a module's tests (tests must be transactional to hand it work)."""
    with django_db_blocker.unblock():
        purge_broker()
        with running_worker(tmp_path_factory.mktemp("worker")) as process:
            yield process


@pytest.fixture
def book_dir():
    folder = new_book_dir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def clean_broker():
    purge_broker()
    yield
    purge_broker()
