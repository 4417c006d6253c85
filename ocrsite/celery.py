"""The Celery application. Broker and result backend come from settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")

app = Celery("ocrsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
