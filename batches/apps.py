from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "批量扫描"

    def ready(self):
        from celery.signals import worker_ready

        worker_ready.connect(requeue_on_worker_start, weak=False, dispatch_uid="batches.requeue_on_worker_start")


def requeue_on_worker_start(sender=None, **kwargs):
    """When a worker starts, send again the pages that a killed worker left unfinished. Embedded mode (file
    broker, which forgets a message once taken): every unfinished page of an active task. Full mode (Redis
    redelivers unacknowledged messages after TASK_LOCK_TTL): the pages a previous process with this worker's
    node name held, and pages claimed longer than TASK_LOCK_TTL ago."""
    import logging

    from django.conf import settings

    from . import services

    try:
        embedded = not settings.REDIS_HOST
        services.pages_requeue_stalled(stale_after_seconds=0 if embedded else None, include_pending=embedded,
                                       worker=getattr(sender, "hostname", "") or "")
    except Exception:  # a worker must start even when the database is not there yet
        logging.getLogger(__name__).exception("requeue of unfinished pages failed")
