"""What the probes and /metrics tell callers outside OPS_ALLOWED_NETWORKS (ocrsite/ops_views.py): ready or
not and which dependency fails, nothing about hosts, versions or processes; /metrics only with an admin
token."""

import json

import pytest
from django.test import Client, override_settings

from core.services import token_create

pytestmark = pytest.mark.django_db
OUTSIDE = "203.0.113.9"


def test_ready_from_outside_names_no_host_version_or_pid(settings):
    body = Client(REMOTE_ADDR=OUTSIDE).get("/api/ocr/ready").json()
    assert body["status"] == "ready" and body["failing"] == []
    assert body["checks"] == {"database": "ok", "engine": "ok", "broker": "ok"}
    text = json.dumps(body)
    for secret in (settings.DATABASES["default"]["NAME"], str(settings.REDIS_PORT), "pid", "version"):
        assert secret not in text, secret
    assert set(Client(REMOTE_ADDR=OUTSIDE).get("/api/ocr/live").json()) == {"status"}


def test_ready_from_outside_names_the_failing_dependency(settings):
    settings.REDIS_PORT = 1  # nothing answers there
    response = Client(REMOTE_ADDR=OUTSIDE).get("/api/ocr/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"] and body["checks"]["broker"] == "failing"
    assert "fix" not in json.dumps(body)


def test_ready_details_for_the_local_operator_and_an_admin_token(django_user_model):
    assert "detail" in Client().get("/api/ocr/ready").json()["checks"]["database"]
    _, secret = token_create(user=django_user_model.objects.create_user("ops"), name="ops", scope="admin")
    body = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/ocr/ready").json()
    assert body["checks"]["database"]["ok"] is True and body["pid"]


def test_metrics_need_an_allowed_network_or_an_admin_token(django_user_model):
    response = Client(REMOTE_ADDR=OUTSIDE).get("/metrics")
    assert response.status_code == 403 and response.json()["error"] == "FORBIDDEN"
    user = django_user_model.objects.create_user("scraper")
    _, write = token_create(user=user, name="w", scope="write")
    assert Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {write}").get("/metrics").status_code == 403
    _, admin = token_create(user=user, name="prometheus", scope="admin")
    scraped = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {admin}").get("/metrics")
    assert scraped.status_code == 200 and b"# TYPE" in scraped.content
    assert Client().get("/metrics").status_code == 200
    with override_settings(OPS_ALLOWED_NETWORKS=["203.0.113.0/24"]):
        assert Client(REMOTE_ADDR=OUTSIDE).get("/metrics").status_code == 200
