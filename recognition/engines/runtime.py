"""How the OCR processes of one machine share its cores, and the warm-up of a process's engine.

Every OCR process (a gunicorn worker of the `web` role, a Celery prefork child of the `worker` role) holds
one engine, which reads one page at a time with `threads` CPU threads. The plan gives each role that runs on
this machine a number of processes and threads per engine so that, summed over the roles, processes x
threads never exceeds the cores: two engines that share a core take longer together than one after the
other, and a page's latency becomes unpredictable.

The defaults come from bench/run_service.py and bench/run_batch.py (bench/README.md, "Processes and
threads"): one thread per engine and one engine per core. Two 1-thread engines read more pages per second
than one 2-thread engine on 2 cores (ONNX Runtime parallelises one page's small networks poorly). The
worker's engines are its prefork children, which Celery hands a page each when they are free. The web's are
a pool inside few processes (one per 4 cores): gunicorn processes keep the connections they accept, so
processes of one engine each leave engines idle while requests wait in another process; a pool shares a
process's requests among its engines. When the web and the worker share a machine (`manage.py runservice`,
`make run`), the worker, which reads books of thousands of pages, gets three quarters of the cores and the
web the rest (at least one each).

WORKERS, CELERY_WORKER_CONCURRENCY, OCR_ENGINES_PER_PROCESS and OCR_THREADS, when set above 0, replace the
planned figure; the `ocr`
system checks warn when they ask for more than the cores. The start commands (`runservice`, `start`) put
the plan into their children's environment, so that gunicorn, Celery and each engine read the same figures.
"""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

ROLES = ("web", "worker")


@dataclass(frozen=True)
class RolePlan:
    role: str
    processes: int
    threads: int  # CPU threads of each engine
    engines: int = 1  # engines per process: a web process's pool (a worker child reads one page at a time)

    @property
    def cores(self) -> int:
        return self.processes * self.engines * self.threads

    def describe(self) -> str:
        """What the start commands print: `web: 1 process x 2 engines x 1 OCR thread`."""
        def count(number: int, word: str, plural: str) -> str:
            return f"{number} {word if number == 1 else plural}"
        return (f"{self.role}: {count(self.processes, 'process', 'processes')} x "
                f"{count(self.engines, 'engine', 'engines')} x {count(self.threads, 'OCR thread', 'OCR threads')}")


def available_cores() -> int:
    """CPU cores this process may use: the CPU affinity, capped by a cgroup v2 CPU quota (a container's
    `cpus:` limit), which os.cpu_count() does not see."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def core_shares(roles: tuple[str, ...], cores: int) -> dict[str, int]:
    """The cores each role on this machine gets: all of them for a role alone; the web a quarter (at least
    one) and the worker the rest when both share it. One core shared by both roles is the one case that
    cannot be split: each gets it."""
    if len(roles) == 1:
        return {roles[0]: cores}
    web = max(1, cores // 4)
    return {"web": web, "worker": max(1, cores - web)}


def plan(roles=ROLES, cores: int | None = None, processes: dict[str, int] | None = None) -> dict[str, RolePlan]:
    """Processes, engines per process and engine threads of each of `roles` ("web", "worker") running on
    this machine; `processes` fixes a role's processes (a command-line option), as WORKERS and
    CELERY_WORKER_CONCURRENCY do."""
    roles = tuple(role for role in ROLES if role in roles)
    cores = cores or available_cores()
    shares = core_shares(roles, cores)
    requested = {"web": settings.WORKERS, "worker": settings.CELERY_WORKER_CONCURRENCY or 0, **(processes or {})}
    threads_set = settings.OCR_THREADS > 0
    plans = {}
    for role in roles:
        share = shares[role]
        threads = settings.OCR_THREADS if threads_set else 1
        engines_fit = max(1, share // threads)  # engines of `threads` threads the share holds
        if role == "worker":  # prefork children: one engine each, Celery hands each a page when it is free
            count = requested[role] or engines_fit
            if not threads_set:
                threads = max(1, share // count)
            plans[role] = RolePlan(role, count, threads)
            continue
        # The web: few processes (at least one per 4 cores, for a restart or a crash to leave others
        # serving), each with a pool of engines that its requests share.
        count = requested[role] or max(1, engines_fit // 4)
        engines = settings.OCR_ENGINES_PER_PROCESS or max(1, engines_fit // count)
        plans[role] = RolePlan(role, count, threads, engines)
    return plans


def role_settings(role_plan: RolePlan) -> dict[str, str]:
    """The environment that makes a child process of the role follow the plan."""
    processes = {"web": "WORKERS", "worker": "CELERY_WORKER_CONCURRENCY"}[role_plan.role]
    return {processes: str(role_plan.processes), "OCR_THREADS": str(role_plan.threads),
            "OCR_ENGINES_PER_PROCESS": str(role_plan.engines)}


def engine_threads() -> int:
    """CPU threads of this process's engine: OCR_THREADS (the start commands set it for their children
    from the plan), else the cores shared out over the processes configured for a role alone here."""
    if settings.OCR_THREADS > 0:
        return settings.OCR_THREADS
    return max(1, available_cores() // max(1, settings.WORKERS, settings.CELERY_WORKER_CONCURRENCY or 0))


def engines_per_process() -> int:
    """Engines this process loads per model: OCR_ENGINES_PER_PROCESS (the start commands set it from the
    plan), else one."""
    return max(1, settings.OCR_ENGINES_PER_PROCESS)


# --- Warm-up ---------------------------------------------------------------------------------------------
WARMUP: dict = {"state": "not_started", "error": None, "seconds": None}


def warm_up(role: str) -> bool:
    """Loads the engine for OCR_LANG and the page pipeline in this process and reads one page (when
    OCR_WARMUP), so that the first request pays for neither. Never raises: a failure is kept in WARMUP for
    the readiness endpoint and logged; the result says whether it worked."""
    if not settings.OCR_WARMUP:
        WARMUP["state"] = "disabled"
        return True
    started = time.perf_counter()
    try:
        from recognition.services import warm_up as read_sample_page

        read_sample_page()
    except Exception as error:
        WARMUP.update(state="failed", error=str(error))
        logger.error("%s process %d: OCR engine warm-up failed: %s", role, os.getpid(), error)
        return False
    WARMUP.update(state="ok", error=None, seconds=round(time.perf_counter() - started, 2))
    logger.info("%s process %d: OCR engine warm (%.1f s)", role, os.getpid(), WARMUP["seconds"])
    return True
