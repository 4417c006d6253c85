"""Request rates (core/throttling.py): per token and per address, counted in the shared cache (Redis here),
answered 429 THROTTLED with Retry-After."""

import uuid

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from core.services import token_create

pytestmark = pytest.mark.django_db


def outside_address() -> str:
    # A fresh address per test: the counts live in Redis, shared by every test of the run.
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}"


@override_settings(API_TOKEN_REQUIRED=False, API_THROTTLE_ADDRESS="3/minute")
def test_address_rate_answers_429_with_retry_after():
    client = APIClient(REMOTE_ADDR=outside_address())
    assert [client.get("/api/ocr/batch/tasks").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/ocr/batch/tasks")
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False and body["error"] == "THROTTLED" and body["message"]
    assert 0 < int(response["Retry-After"]) <= 60 and body["retry_after"] == int(response["Retry-After"])
    # Another address has its own count; loopback (a trusted network) is not limited.
    assert APIClient(REMOTE_ADDR=outside_address()).get("/api/ocr/batch/tasks").status_code == 200
    local = APIClient(REMOTE_ADDR="127.0.0.1")
    assert all(local.get("/api/ocr/batch/tasks").status_code == 200 for _ in range(5))


@override_settings(API_TOKEN_REQUIRED=True, API_THROTTLE_TOKEN="2/minute", API_THROTTLE_ADDRESS="")
def test_token_rate_follows_the_token_not_the_address(django_user_model):
    user = django_user_model.objects.create_user("throttled")
    _, secret = token_create(user=user, name="busy", scope="read")
    _, other = token_create(user=user, name="quiet", scope="read")
    first = APIClient(REMOTE_ADDR=outside_address(), HTTP_AUTHORIZATION=f"Bearer {secret}")
    second = APIClient(REMOTE_ADDR=outside_address(), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert first.get("/api/ocr/batch/tasks").status_code == 200
    assert second.get("/api/ocr/batch/tasks").status_code == 200
    assert first.get("/api/ocr/batch/tasks").status_code == 429
    assert APIClient(REMOTE_ADDR=outside_address(),
                     HTTP_AUTHORIZATION=f"Bearer {other}").get("/api/ocr/batch/tasks").status_code == 200
