"""Celery jobs of batch scanning: fetch by id, call a service. Late acknowledgement and prefetch 1 come from
settings (CELERY_TASK_ACKS_LATE, CELERY_WORKER_PREFETCH_MULTIPLIER), so a page a killed worker held is
delivered again; the services make running it twice harmless."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# A lost database connection or a deadlock victim: run the job again a little later (it is idempotent).
DB_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": 2, "retry_backoff_max": 60,
            "max_retries": 5}


@shared_task(name="batches.dispatch_task", acks_late=True, ignore_result=True, **DB_RETRY)
def dispatch_task(task_id: str) -> int:
    """Sends one process_page message per unfinished page of the task."""
    return services.task_dispatch_pages(task_id=task_id)


@shared_task(bind=True, name="batches.process_page", acks_late=True, ignore_result=True, **DB_RETRY)
def process_page(self, result_id: int) -> str:
    """Recognizes one page (one OcrResult row) and records it."""
    return services.page_process(result_id=result_id, worker=self.request.hostname or "")


@shared_task(name="batches.requeue_stalled_pages", ignore_result=True)
def requeue_stalled_pages(include_pending: bool = False) -> int:
    return services.pages_requeue_stalled(include_pending=include_pending)
