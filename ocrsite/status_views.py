"""The service's health and status endpoints (shapes in shared API.md): `GET {API_PREFIX}/health` for load
balancers that want one word, `GET {API_PREFIX}/status` for people: version, engine and models, counters,
the broker's queue. Beside the probes of ocrsite/ops_views.py, because they ask the same dependencies."""

import logging

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition import stats
from recognition.engines import EngineUnavailable, available_langs, engine_for, loaded_engines
from recognition.engines.models import models_for_engine
from recognition.serializers import HealthSerializer, StatusSerializer

from . import metrics, ops

logger = logging.getLogger(__name__)


class HealthView(APIView):
    # Load balancers ask without a token; the answer says only healthy or not.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(summary="健康检查", responses={200: HealthSerializer, 503: HealthSerializer}, tags=["识别"])
    def get(self, request):
        checks = {}
        try:
            engine_for(settings.OCR_LANG)
            checks["engine"] = "ok"
        except Exception as error:
            checks["engine"] = f"error: {error}"
        database = ops.check_database()
        checks["database"] = "ok" if database.ok else f"error: {database.detail}"
        healthy = all(value == "ok" for value in checks.values())
        body = {"status": "healthy" if healthy else "unhealthy", "version": settings.APP_VERSION}
        if not healthy:
            body["checks"] = checks
        return Response(body, status=200 if healthy else 503)


class StatusView(APIView):
    @extend_schema(summary="服务状态", responses={200: StatusSerializer}, tags=["识别"])
    def get(self, request):
        installed = [spec for spec in models_for_engine(settings.OCR_ENGINE) if spec.installed]
        try:
            langs = available_langs()
        except EngineUnavailable:
            langs = []
        return Response({
            "app": settings.APP_NAME,
            "version": settings.APP_VERSION,
            "engine": settings.OCR_ENGINE,
            "default_model": settings.OCR_MODEL,
            "default_lang": settings.OCR_LANG,
            "langs": langs,
            "models": [{"name": spec.name, "ocr_version": spec.ocr_version, "langs": list(spec.langs)}
                       for spec in installed],
            "loaded_models": [{"name": loaded.spec.name, "threads": loaded.engine.threads,
                               "loaded_at": loaded.loaded_at} for loaded in loaded_engines()],
            **stats.snapshot(),
            "queue_depth": waiting_pages(),
        })


def waiting_pages() -> int | None:
    """Messages waiting in the broker; None when it cannot be asked (a status page still answers)."""
    try:
        return sum(metrics.queue_depth().values())
    except Exception as error:
        logger.warning("queue depth unavailable: %s", error)
        return None
