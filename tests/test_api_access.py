"""API access (core/access.py): tokens and their scopes, trusted networks, owners of tasks.

Requests from an untrusted network are made with REMOTE_ADDR set to an outside address, as gunicorn sets it
for a remote client."""

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from batches import selectors
from core.models import ApiToken
from core.services import token_create, token_revoke
from tests.api_support import assert_error
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
OUTSIDE = "203.0.113.7"
tokens_required = override_settings(API_TOKEN_REQUIRED=True, API_TRUSTED_NETWORKS=["127.0.0.0/8", "::1/128"])


def remote_client(secret: str | None = None, scheme: str = "Bearer") -> APIClient:
    client = APIClient(REMOTE_ADDR=OUTSIDE)
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return client


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob")


def scan(client, directory, book_id="王氏族谱"):
    return client.post("/api/ocr/batch/scan", {"book_id": book_id, "directory": str(directory),
                                               "auto_start": False}, format="json")


@tokens_required
def test_untrusted_caller_without_token_gets_401_with_challenge():
    response = remote_client().get("/api/ocr/batch/tasks")
    assert_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error(remote_client().get("/api/ocr/status"), 401, "UNAUTHENTICATED")
    assert remote_client().get("/api/ocr/health").status_code == 200  # load balancers ask without a token


@tokens_required
def test_loopback_needs_no_token():
    assert APIClient(REMOTE_ADDR="127.0.0.1").get("/api/ocr/batch/tasks").status_code == 200
    assert APIClient(REMOTE_ADDR="::1").get("/api/ocr/batch/tasks").status_code == 200


@tokens_required
def test_forwarded_for_counts_only_from_a_trusted_proxy():
    forged = APIClient(REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert_error(forged.get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")
    proxied = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {OUTSIDE}")
    assert_error(proxied.get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")


@override_settings(API_TOKEN_REQUIRED=False, API_TRUSTED_NETWORKS=[])
def test_tokens_optional_when_not_required():
    assert remote_client().get("/api/ocr/batch/tasks").status_code == 200


@tokens_required
def test_bearer_and_token_schemes_are_accepted_and_stored_hashed(alice):
    token, secret = token_create(user=alice, name="scanner", scope="read")
    assert remote_client(secret).get("/api/ocr/batch/tasks").status_code == 200
    assert remote_client(secret, scheme="Token").get("/api/ocr/batch/tasks").status_code == 200
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_digest, stored.key_prefix) and len(stored.key_digest) == 64
    assert stored.last_used_at is not None


@tokens_required
def test_wrong_revoked_and_expired_tokens_are_401(alice):
    assert_error(remote_client("pocr_not-a-token").get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")
    token, secret = token_create(user=alice, name="old")
    token_revoke(token)
    assert_error(remote_client(secret).get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")
    _, expired = token_create(user=alice, name="expired", expires_at=timezone.now() - timezone.timedelta(seconds=1))
    assert_error(remote_client(expired).get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")
    # A wrong token is refused even from loopback: it is never taken for "no token".
    local = APIClient(REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert_error(local.get("/api/ocr/batch/tasks"), 401, "UNAUTHENTICATED")


@tokens_required
def test_read_token_cannot_write(alice, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    _, secret = token_create(user=alice, name="reader", scope="read")
    body = assert_error(scan(remote_client(secret), book_dir), 403, "FORBIDDEN")
    assert "read" in body["message"]


@tokens_required
def test_tasks_belong_to_their_creator(alice, bob, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    _, alice_secret = token_create(user=alice, name="a")
    _, bob_secret = token_create(user=bob, name="b")
    _, admin_secret = token_create(user=bob, name="ops", scope="admin")
    created = scan(remote_client(alice_secret), book_dir)
    assert created.status_code == 201, created.content
    task_id = created.json()["task_id"]
    assert selectors.task_get(task_id).owner == alice

    alice_client, bob_client = remote_client(alice_secret), remote_client(bob_secret)
    assert alice_client.get(f"/api/ocr/batch/status/{task_id}").status_code == 200
    assert [t["task_id"] for t in alice_client.get("/api/ocr/batch/tasks").json()["tasks"]] == [task_id]
    assert bob_client.get("/api/ocr/batch/tasks").json()["tasks"] == []
    for method, url in (("get", f"/api/ocr/batch/status/{task_id}"), ("post", f"/api/ocr/batch/start/{task_id}"),
                        ("post", f"/api/ocr/batch/cancel/{task_id}"), ("post", f"/api/ocr/batch/retry/{task_id}"),
                        ("delete", f"/api/ocr/batch/delete/{task_id}"), ("get", f"/api/ocr/batch/download/{task_id}")):
        assert_error(getattr(bob_client, method)(url), 403, "FORBIDDEN")
    assert_error(bob_client.post("/api/ocr/batch/export", {"task_id": task_id}, format="json"), 403, "FORBIDDEN")
    assert selectors.task_get(task_id) is not None  # bob's delete changed nothing

    admin = remote_client(admin_secret)
    assert [t["task_id"] for t in admin.get("/api/ocr/batch/tasks").json()["tasks"]] == [task_id]
    assert admin.post(f"/api/ocr/batch/cancel/{task_id}").status_code == 200
    # The machine's own operator (loopback, no token) sees every task.
    assert APIClient().get(f"/api/ocr/batch/status/{task_id}").status_code == 200


@tokens_required
def test_a_dashboard_session_works_with_its_csrf_token_only(alice, book_dir):
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    write_page(book_dir / "001.png", ["第1页"])
    client = APIClient(REMOTE_ADDR=OUTSIDE, enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/ocr/batch/tasks").status_code == 200  # reading needs no CSRF token
    body = assert_error(scan(client, book_dir), 403, "FORBIDDEN")
    assert "CSRF" in body["message"]
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    created = client.post("/api/ocr/batch/scan", {"book_id": "王氏族谱", "directory": str(book_dir),
                                                  "auto_start": False}, format="json",
                          HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret))
    assert created.status_code == 201, created.content
    assert selectors.task_get(created.json()["task_id"]).owner == alice
