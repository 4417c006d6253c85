from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "批量扫描"

    def ready(self):
        from celery.signals import worker_ready

        worker_ready.connect(requeue_on_worker_start, weak=False, dispatch_uid="batches.requeue_on_worker_start")


def requeue_on_worker_start(sender=None, **kwargs):
    """When a worker starts, take back at once what an earlier process under its node name held (its leases
    are expired and the pages sent again) instead of waiting for the leases to run out. Embedded mode (one
    worker per machine, file broker that forgets a message once taken): every lease is expired and every
    waiting page sent again."""
    import logging

    from django.conf import settings

    from .services import recovery

    try:
        embedded = not settings.REDIS_HOST
        recovery.pages_requeue_stalled(node=getattr(sender, "hostname", "") or "", expire_all=embedded,
                                       include_waiting=embedded)
    except Exception:  # a worker must start even when the database is not there yet
        logging.getLogger(__name__).exception("requeue of unfinished pages failed")
