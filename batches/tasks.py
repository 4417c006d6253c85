"""Celery jobs of batch scanning: call a service, retry database errors, count the page in the metrics.

Late acknowledgement and prefetch 1 come from settings (CELERY_TASK_ACKS_LATE,
CELERY_WORKER_PREFETCH_MULTIPLIER). The jobs return nothing: what happened to a page is logged by the
service ("page X of task Y: failed (CODE)"), so the worker's own "succeeded" line only says the job ran.
"""

import logging
import time

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from celery.worker.request import Request
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import errors
from .services import listing, pages, recovery

logger = logging.getLogger(__name__)

# A lost database connection or a deadlock victim: the page job runs again after 1, 2, 4 ... 30 s, as many
# times as fit in TASK_DB_RETRY_WINDOW (then the page is left to the sweeper).
DB_ERRORS = (OperationalError, InterfaceError)
DB_RETRY_BACKOFF_MAX = 30


def _db_retry_countdown(retries: int) -> int:
    return get_exponential_backoff_interval(factor=1, retries=retries, maximum=DB_RETRY_BACKOFF_MAX,
                                            full_jitter=False)


def _db_max_retries(window: int) -> int:
    retries, waited = 0, 0
    while waited < window:
        waited += _db_retry_countdown(retries)
        retries += 1
    return retries


SOFT_TIME_LIMIT = settings.TASK_PAGE_SOFT_TIME_LIMIT or None
# The hard limit kills the child 60 s after the soft one, for a page stuck where the soft limit cannot
# interrupt it (inside native code).
TIME_LIMIT = SOFT_TIME_LIMIT + 60 if SOFT_TIME_LIMIT else None


class PageRequest(Request):
    """process_page's request in the worker's main process. When the hard time limit kills the child that
    was reading a page, the child cannot record it: the page is recorded failed here. Should that fail too
    (database away), the page's lease runs out and the sweeper sends it again (WORKER_LOST in the end)."""

    def on_timeout(self, soft, timeout):
        super().on_timeout(soft, timeout)
        if soft:
            return  # the child raises SoftTimeLimitExceeded and records the page itself
        from django.db import close_old_connections

        try:
            close_old_connections()
            pages.page_record_killed(result_id=self.args[0], seconds=timeout)
        except Exception:
            logger.exception("page #%s: killed at the time limit, not recorded (the sweeper sends it again)",
                             self.args[0] if self.args else "?")


@shared_task(bind=True, name="batches.process_page", acks_late=True, ignore_result=True, Request=PageRequest,
             soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def process_page(self, result_id: int, resume: str = "") -> None:
    """Recognizes one page (one OcrResult row) and records it. `resume` is set on a retry: the holder of the
    attempt that hit the database error, whose claim this attempt takes over."""
    holder = pages.holder_name(self.request.hostname or "")
    started = time.perf_counter()
    try:
        outcome = pages.page_process(result_id=result_id, holder=holder, resume=resume,
                                     soft_time_limit=SOFT_TIME_LIMIT)
    except DB_ERRORS as error:
        logger.warning("page #%s: database error, retry %d: %s", result_id, self.request.retries + 1, error)
        raise self.retry(exc=error, kwargs={"resume": holder}, countdown=_db_retry_countdown(self.request.retries),
                         max_retries=_db_max_retries(settings.TASK_DB_RETRY_WINDOW))
    _count_page(outcome, time.perf_counter() - started)


@shared_task(bind=True, name="batches.list_task_files", acks_late=True, ignore_result=True)
def list_task_files(self, task_id: str) -> None:
    """Lists a `scanning` task's directory into its pages (batches/services/listing.py); the job's id is the
    run's. Run again, it starts from scratch without duplicates; a run stopped by a database error is left to
    the sweeper, which sends it again once the task's listing has not moved for a lease."""
    try:
        listing.task_list_files(task_id=task_id, run=self.request.id or "")
    except DB_ERRORS as error:
        logger.warning("task %s: listing stopped by a database error (the sweeper sends it again): %s",
                       task_id, error)
    except errors.BrokerUnavailable:
        pass  # listed, but its first window could not be sent: the task is failed and says so (retry sends it)


@shared_task(name="batches.sweep", ignore_result=True)
def sweep() -> None:
    """The sweeper (batches/services/recovery.py), sent every TASK_SWEEP_INTERVAL seconds by beat. While the
    database is away there is nothing to repair with: the next interval's sweep runs instead."""
    try:
        recovery.sweep()
    except DB_ERRORS as error:
        logger.warning("sweep skipped: database unavailable: %s", error)


def _count_page(outcome: str, seconds: float) -> None:
    try:
        from ocrsite import metrics

        if outcome in ("success", "failed"):
            metrics.record_page("batch", outcome == "success", seconds)
        elif outcome == "engine_failed":
            metrics.record_failure("engine")
    except Exception:  # metrics must never fail a page
        logger.exception("page metrics")
