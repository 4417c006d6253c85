"""Liveness, readiness and metrics endpoints for load balancers, Docker and Prometheus.

- `GET {API_PREFIX}/live`: 200 while the process answers at all (no dependency is asked). A failing live
  probe means: restart this process.
- `GET {API_PREFIX}/ready`: 200 when this process can do its work: the database answers, the OCR engine
  is loaded (or its model files are installed and it loads on first use; a failed warm-up fails the
  probe), and the broker answers (Redis in the full mode, the broker folder in the embedded mode).
  503 otherwise, with each failing check's `detail` and `fix`. A failing ready probe means: send no traffic
  here for now.
- `GET /metrics`: Prometheus text format (see ocrsite/metrics.py).
"""

import os
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from . import ops

STARTED = time.time()


def _base() -> dict:
    return {"version": settings.APP_VERSION, "mode": ops.mode_name(), "pid": os.getpid(),
            "uptime_seconds": round(time.time() - STARTED, 1)}


@require_GET
def live(request):
    return JsonResponse({"status": "alive", **_base()})


@require_GET
def ready(request):
    checks = {"database": ops.check_database(), "engine": ops.check_engine(), "broker": ops.check_broker()}
    ok = all(probe.ok for probe in checks.values())
    body = {"status": "ready" if ok else "not_ready", **_base(),
            "checks": {name: probe.as_dict() for name, probe in checks.items()}}
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def metrics(request):
    from . import metrics as prometheus

    payload, content_type = prometheus.render()
    return HttpResponse(payload, content_type=content_type)
