"""The Celery application. Broker and result backend come from settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")

app = Celery("ocrsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Worker signal handlers: logging to celery_worker.log, OCR engine warm-up per child, metrics.
from ocrsite import worker as _worker_signals  # noqa: E402,F401
