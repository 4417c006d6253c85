"""Celery signal handlers of the worker: logging, engine warm-up, metrics, request ids.

Imported by ocrsite/celery.py. Nothing here imports prometheus_client at import time: the worker's main
process must first point PROMETHEUS_MULTIPROC_DIR at its folder (ocrsite/metrics.py explains why).

- Logging: Celery does not replace the logging set up from settings.LOGGING, so the worker writes the same
  format (with the task id as request id) to LOG_DIR/celery_worker.log, rotated like api.log.
- Warm-up: every worker child loads its OCR engine when it starts (OCR_WARMUP), before it takes a task;
  CELERY_WORKER_PROC_ALIVE_TIMEOUT gives it the time.
- Shutdown: SIGTERM is Celery's warm shutdown: no new task starts, the running ones finish, and messages
  the worker had reserved but not started go back to the queue. A worker killed mid-page (SIGKILL, power
  loss) leaves the page `processing` under a lease nobody renews: once it runs out the sweeper sends the
  page again (batches/services/recovery.py), and a worker restarted under the same node name takes its
  pages back at once (batches/apps.py).
- Database connections: a child keeps its connection from page to page, under Django's rules for it
  (CONN_MAX_AGE, health checks) applied before each task, rather than Celery's default of a new
  connection per task (CELERY_DB_REUSE_MAX in settings).
- Beat: each worker embeds one (`-B`, ocrsite/ops.py) to send the sweeper every TASK_SWEEP_INTERVAL.
"""

import copy
import logging
import logging.config
import os
import sys
import time
from pathlib import Path

from celery import signals

logger = logging.getLogger("ocrsite.worker")


def _started_as_worker() -> bool:
    program = Path(sys.argv[0]).name if sys.argv else ""
    return "worker" in sys.argv[1:] and program in {"celery", "__main__.py"}


if _started_as_worker():
    # `celery -A ocrsite worker` started by hand: log to celery_worker.log, not to the web's api.log.
    os.environ.setdefault("LOG_FILE_NAME", "celery_worker.log")


@signals.setup_logging.connect
def _setup_logging(**kwargs):
    from django.conf import settings

    logging.config.dictConfig(copy.deepcopy(settings.LOGGING))


@signals.worker_init.connect
def _worker_init(**kwargs):
    # Main process, before the pool forks its children: a fresh metrics folder unless a launcher
    # (`manage.py start worker`, `runservice`) prepared one.
    from . import ops

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        ops.prepare_multiprocess_dir("worker")


@signals.worker_ready.connect
def _worker_ready(sender=None, **kwargs):
    from django.conf import settings

    logger.info("worker %s ready, broker %s", getattr(sender, "hostname", "?"),
                "redis" if settings.REDIS_HOST else "filesystem")
    if settings.WORKER_METRICS_PORT > 0:
        from prometheus_client import start_http_server

        from . import metrics

        start_http_server(settings.WORKER_METRICS_PORT,
                          registry=metrics.registry_for_scrape(include_queue=True, roles=("worker",)))
        logger.info("worker metrics on port %d", settings.WORKER_METRICS_PORT)


@signals.worker_process_init.connect
def _worker_process_init(**kwargs):
    from . import ops

    ops.warm_up("worker")


@signals.worker_process_shutdown.connect
def _worker_process_shutdown(pid=None, **kwargs):
    try:
        from . import metrics

        metrics.mark_process_dead(pid or os.getpid())
    except Exception:
        pass


_started: dict[str, tuple[float, object]] = {}


@signals.task_prerun.connect
def _task_prerun(task_id=None, task=None, **kwargs):
    from django.db import close_old_connections

    from .middleware import request_id_var

    # What Django does at the start of a request: a connection past CONN_MAX_AGE, or one a database error
    # left unusable, is closed; a kept one is checked once before its first query (CONN_HEALTH_CHECKS).
    close_old_connections()
    _started[task_id] = (time.perf_counter(), request_id_var.set(task_id or "-"))


@signals.task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **kwargs):
    try:
        _count_task(task_id, task, state, kwargs)
    except Exception:  # metrics must never fail a task
        logger.exception("task metrics")


def _count_task(task_id, task, state, kwargs):
    from . import metrics
    from .middleware import request_id_var

    started, token = _started.pop(task_id, (None, None))
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:
            request_id_var.set("-")
    name = getattr(task, "name", "?")
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry", "REJECTED": "rejected",
               "REVOKED": "revoked", "IGNORED": "success"}.get(state or "", (state or "unknown").lower())
    metrics.TASKS.labels(task=name, outcome=outcome).inc()
    if started is not None:
        metrics.TASK_SECONDS.labels(task=name).observe(time.perf_counter() - started)
    if outcome == "failure":
        metrics.record_failure("task")
    # Pages are counted by batches.process_page itself (batches/tasks.py), which knows their outcome.
