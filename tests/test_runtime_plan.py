"""The plan of OCR processes and engine threads (recognition/engines/runtime.py): the web and the worker on
one machine never ask for more than its cores, what is set by hand is kept, and the start commands hand
the plan to their children."""

import re

import pytest
from django.test import override_settings

from ocrsite import checks as ocr_checks
from ocrsite import ops
from recognition.engines import runtime

from .deployment_support import manage, service_env

PLANNED = {"WORKERS": 0, "CELERY_WORKER_CONCURRENCY": 0, "OCR_THREADS": 0}


def total_threads(plans: dict) -> int:
    return sum(plan.cores for plan in plans.values())


@override_settings(**PLANNED)
@pytest.mark.parametrize("cores", [1, 2, 3, 4, 8, 16, 64])
def test_web_and_worker_together_never_exceed_the_cores(cores):
    plans = runtime.plan(cores=cores)
    assert set(plans) == {"web", "worker"}
    assert all(plan.processes >= 1 and plan.threads >= 1 for plan in plans.values())
    assert total_threads(plans) <= max(cores, 2)  # one core cannot be split between two roles


@override_settings(**PLANNED)
def test_two_cores_give_one_single_thread_process_to_each_role():
    plans = runtime.plan(cores=2)
    assert (plans["web"].processes, plans["web"].threads) == (1, 1)
    assert (plans["worker"].processes, plans["worker"].threads) == (1, 1)


@override_settings(**PLANNED)
def test_a_role_alone_gets_one_single_thread_process_per_core():
    for role in runtime.ROLES:
        plan = runtime.plan([role], cores=8)[role]
        assert (plan.processes, plan.threads) == (8, 1)


@override_settings(**PLANNED)
def test_the_worker_gets_most_cores_when_it_shares_the_machine():
    plans = runtime.plan(cores=16)
    assert plans["worker"].cores == 12 and plans["web"].cores == 4


@override_settings(WORKERS=3, CELERY_WORKER_CONCURRENCY=0, OCR_THREADS=0)
def test_processes_set_by_hand_share_their_role_s_cores():
    plan = runtime.plan(["web"], cores=8)["web"]
    assert (plan.processes, plan.threads) == (3, 2)
    assert runtime.plan(["worker"], cores=8, processes={"worker": 4})["worker"].threads == 2


@override_settings(WORKERS=0, CELERY_WORKER_CONCURRENCY=0, OCR_THREADS=3)
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
    env = ops.role_environment(runtime.RolePlan("worker", 3, 2), base={})
    assert (env["CELERY_WORKER_CONCURRENCY"], env["OCR_THREADS"]) == ("3", "2")
    env = ops.role_environment(runtime.RolePlan("web", 1, 1), base={})
    assert (env["WORKERS"], env["OCR_THREADS"]) == ("1", "1")


@override_settings(OCR_THREADS=1, CELERY_WORKER_CONCURRENCY=64, WORKERS=0)
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
    processes, threads, cores = map(int, re.search(r"worker: (\d+) OCR processes x (\d+) threads on (\d+) cores",
                                                   result.stdout).groups())
    assert f"--concurrency={processes}" in result.stdout.strip().splitlines()[-1]
    if concurrency == "0":
        assert (processes, threads) == (cores, 1)
    else:
        assert (processes, threads) == (64, 1)
