"""GET /api/ocr/health: healthy with the real version; 503 naming the failing check."""

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient


@pytest.mark.django_db
def test_healthy_with_version():
    response = APIClient().get("/api/ocr/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "version": settings.APP_VERSION}


@pytest.mark.django_db
@override_settings(OCR_LANG="xx", OCR_ENGINE="nonexistent")
def test_unhealthy_when_the_engine_cannot_load():
    response = APIClient().get("/api/ocr/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["engine"].startswith("error")
    assert body["checks"]["database"] == "ok"
