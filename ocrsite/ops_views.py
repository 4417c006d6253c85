"""Liveness, readiness and metrics endpoints for load balancers, Docker and Prometheus.

- `GET {API_PREFIX}/live`: 200 while the process answers at all (no dependency is asked). A failing live
  probe means: restart this process.
- `GET {API_PREFIX}/ready`: 200 when this process can do its work: the database answers, the OCR engine
  is loaded (or its model files are installed and it loads on first use; a failed warm-up fails the
  probe), and the broker answers (Redis in the full mode, the broker folder in the embedded mode).
  503 otherwise. A failing ready probe means: send no traffic here for now.
- `GET /metrics`: Prometheus text format (see ocrsite/metrics.py).

Anyone may ask the probes, but only OPS_ALLOWED_NETWORKS (loopback by default) or an admin-scope token
(core/access.py) get the details: version, mode, pid, and each check's `detail` and `fix` (database host,
Redis address, ...). Others learn only ready or not and which dependency fails. /metrics is for them only.
"""

import os
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from core.access import may_operate

from . import ops

STARTED = time.time()


def _base() -> dict:
    return {"version": settings.APP_VERSION, "mode": ops.mode_name(), "pid": os.getpid(),
            "uptime_seconds": round(time.time() - STARTED, 1)}


@require_GET
def live(request):
    return JsonResponse({"status": "alive", **(_base() if may_operate(request) else {})})


@require_GET
def ready(request):
    checks = {"database": ops.check_database(), "engine": ops.check_engine(), "broker": ops.check_broker()}
    ok = all(probe.ok for probe in checks.values())
    body = {"status": "ready" if ok else "not_ready",
            "failing": [name for name, probe in checks.items() if not probe.ok]}
    try:
        detailed = may_operate(request)
    except DatabaseError:  # no database to vouch for the token: the answer for everyone, naming the database
        detailed = False
    if detailed:
        body.update(_base(), checks={name: probe.as_dict() for name, probe in checks.items()})
    else:
        body["checks"] = {name: "ok" if probe.ok else "failing" for name, probe in checks.items()}
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def metrics(request):
    from . import metrics as prometheus

    if not may_operate(request):
        return JsonResponse({"success": False, "error": "FORBIDDEN",
                             "message": "/metrics 只对 OPS_ALLOWED_NETWORKS 或管理范围的令牌开放"}, status=403)
    payload, content_type = prometheus.render()
    return HttpResponse(payload, content_type=content_type)
