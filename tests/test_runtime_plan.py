"""The plan of OCR processes and engine threads (recognition/engines/runtime.py): the web and the worker on
one machine never ask for more than its cores, what is set by hand is kept, and the start commands hand
the plan to their children."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.test import override_settings

from ocrsite import checks as ocr_checks
from ocrsite import ops
from recognition.engines import runtime

from .deployment_support import manage, service_env

PLANNED = {"WORKERS": 0, "CELERY_WORKER_CONCURRENCY": 0, "OCR_THREADS": 0, "OCR_ENGINES_PER_PROCESS": 0}


def total_threads(plans: dict) -> int:
    return sum(plan.cores for plan in plans.values())


@override_settings(**PLANNED)
@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
def test_web_and_worker_together_never_exceed_the_cores(cores):
    plans = runtime.plan(cores=cores)
    assert set(plans) == {"web", "worker"}
    assert all(plan.processes >= 1 and plan.threads >= 1 and plan.engines >= 1 for plan in plans.values())
    assert total_threads(plans) <= max(cores, 2)  # one core cannot be split between two roles


def test_a_plan_says_what_it_runs():
    assert runtime.RolePlan("web", 1, 1, 2).describe() == "web: 1 process x 2 engines x 1 OCR thread"
    assert runtime.RolePlan("worker", 3, 2).describe() == "worker: 3 processes x 1 engine x 2 OCR threads"


@override_settings(**PLANNED)
def test_two_cores_give_one_single_thread_process_to_each_role():
    plans = runtime.plan(cores=2)
    assert (plans["web"].processes, plans["web"].threads) == (1, 1)
    assert (plans["worker"].processes, plans["worker"].threads) == (1, 1)


@override_settings(**PLANNED)
def test_a_role_alone_gets_one_single_thread_engine_per_core():
    worker = runtime.plan(["worker"], cores=8)["worker"]
    assert (worker.processes, worker.engines, worker.threads) == (8, 1, 1)
    web = runtime.plan(["web"], cores=8)["web"]
    assert (web.processes, web.engines, web.threads) == (2, 4, 1)  # a pool of engines in few processes
    web = runtime.plan(["web"], cores=2)["web"]
    assert (web.processes, web.engines, web.threads) == (1, 2, 1)


@override_settings(**PLANNED)
def test_the_worker_gets_most_cores_when_it_shares_the_machine():
    plans = runtime.plan(cores=16)
    assert plans["worker"].cores == 12 and plans["web"].cores == 4


@override_settings(WORKERS=3, CELERY_WORKER_CONCURRENCY=0, OCR_THREADS=0, OCR_ENGINES_PER_PROCESS=0)
def test_processes_set_by_hand_share_their_role_s_cores():
    plan = runtime.plan(["web"], cores=8)["web"]
    assert (plan.processes, plan.engines, plan.threads) == (3, 2, 1)
    assert runtime.plan(["worker"], cores=8, processes={"worker": 4})["worker"].threads == 2


@override_settings(WORKERS=0, CELERY_WORKER_CONCURRENCY=0, OCR_THREADS=3, OCR_ENGINES_PER_PROCESS=0)
def test_threads_set_by_hand_are_kept_with_as_many_processes_as_fit():
    assert {plan.threads for plan in runtime.plan(cores=8).values()} == {3}
    assert runtime.plan(["worker"], cores=8)["worker"].processes == 2


@override_settings(OCR_THREADS=0, WORKERS=0, CELERY_WORKER_CONCURRENCY=0)
def test_an_engine_outside_the_start_commands_uses_the_cores_of_one_process(monkeypatch):
    monkeypatch.setattr(runtime, "available_cores", lambda: 8)
    assert runtime.engine_threads() == 8
    with override_settings(WORKERS=4):
        assert runtime.engine_threads() == 2
    with override_settings(OCR_THREADS=3):
        assert runtime.engine_threads() == 3


@override_settings(**PLANNED)
def test_a_child_s_environment_carries_its_plan():
    env = ops.role_environment(runtime.RolePlan("worker", 3, 2), base={"OCR_ENGINES_PER_PROCESS": "4"})
    assert (env["CELERY_WORKER_CONCURRENCY"], env["OCR_THREADS"], env["OCR_ENGINES_PER_PROCESS"]) == ("3", "2", "1")
    env = ops.role_environment(runtime.RolePlan("web", 1, 1, 2), base={})
    assert (env["WORKERS"], env["OCR_THREADS"], env["OCR_ENGINES_PER_PROCESS"]) == ("1", "1", "2")


@override_settings(OCR_THREADS=1, CELERY_WORKER_CONCURRENCY=64, WORKERS=0, OCR_ENGINES_PER_PROCESS=0)
def test_oversubscribed_worker_is_a_warning():
    messages = ocr_checks.check_cpu_sizing()
    assert [message.id for message in messages] == ["ocr.W008"]
    assert "CELERY_WORKER_CONCURRENCY (64) x OCR_THREADS (1)" in messages[0].msg


@override_settings(**PLANNED)
def test_planned_defaults_raise_no_sizing_warning():
    assert ocr_checks.check_cpu_sizing() == []


@pytest.mark.parametrize("concurrency", ["0", "64"])
def test_start_worker_prints_and_uses_its_plan(tmp_path, concurrency):
    env = service_env(tmp_path, embedded=True, OCR_THREADS="0", CELERY_WORKER_CONCURRENCY=concurrency)
    result = manage(["start", "worker", "--dry-run", "--migrate"], env, timeout=180)
    assert result.returncode == 0, result.stderr
    processes, threads, cores = map(int, re.search(
        r"worker: (\d+) process(?:es)? x 1 engine x (\d+) OCR threads? on (\d+) cores", result.stdout).groups())
    assert f"--concurrency={processes}" in result.stdout.strip().splitlines()[-1]
    if concurrency == "0":
        assert (processes, threads) == (cores, 1)
    else:
        assert (processes, threads) == (64, 1)


def test_a_worker_starts_with_zero_meaning_no_limit(tmp_path):
    """0 for the per-child limits and the concurrency means "none" and "planned": Celery itself, which reads
    these settings too, refuses 0 for a limit."""
    env = service_env(tmp_path, embedded=True, CELERY_WORKER_MAX_TASKS_PER_CHILD="0",
                      CELERY_WORKER_MAX_MEMORY_PER_CHILD="0", CELERY_WORKER_CONCURRENCY="0", OCR_WARMUP="false")
    assert manage(["migrate", "--noinput"], env, timeout=120).returncode == 0
    log = tmp_path / "worker.out"
    with open(log, "wb") as handle:
        worker = subprocess.Popen([sys.executable, "manage.py", "start", "worker"], cwd=settings.BASE_DIR, env=env,
                                  stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while " ready." not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        command = next(line for line in log.read_text().splitlines() if "exec " in line)
        assert "--max-tasks-per-child" not in command and "--max-memory-per-child" not in command
    finally:  # this test is about the start: a slow warm shutdown is not waited for
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


@override_settings(OCR_ENGINES_PER_PROCESS=2, OCR_THREADS=1)
def test_a_web_process_s_requests_share_its_pool_of_engines(monkeypatch):
    """Two requests at once in one process run on two engines: the second does not wait for the first."""
    import threading

    from recognition import engines

    monkeypatch.setattr(engines, "_pools", {})
    pool = engines.engine_for("ch")
    assert len(pool.engines) == 2 and len({id(loaded.engine) for loaded in pool.engines}) == 2
    both_in = threading.Barrier(2, timeout=30)
    used = []

    def request():
        with pool.checkout() as loaded:
            used.append(loaded)
            both_in.wait()  # raises BrokenBarrierError unless the other request holds the other engine

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(loaded) for loaded in used}) == 2
    with pool.checkout() as first, pool.checkout() as second:
        assert first is not second and pool.free.empty()
