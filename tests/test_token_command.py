"""`manage.py token create | list | revoke`, and tokens created in the admin (secret shown once)."""

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.models import ApiToken

pytestmark = pytest.mark.django_db


def remote(secret):
    return APIClient(REMOTE_ADDR="203.0.113.20", HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_create_list_and_revoke(capsys, settings):
    settings.API_TOKEN_REQUIRED = True
    call_command("token", "create", "--user", "scanner", "--scope", "read", "--name", "扫描服务器")
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("pocr_") and len(secret) > 40
    token = ApiToken.objects.get()
    assert token.user.username == "scanner" and token.scope == "read" and token.key_prefix in secret
    assert remote(secret).get("/api/ocr/batch/tasks").status_code == 200

    call_command("token", "list")
    listed = capsys.readouterr().out
    assert token.key_prefix in listed and "usable" in listed and secret not in listed

    call_command("token", "revoke", token.key_prefix)
    assert remote(secret).get("/api/ocr/batch/tasks").status_code == 401
    with pytest.raises(CommandError):
        call_command("token", "revoke", token.key_prefix)


def test_admin_creates_a_token_and_shows_its_secret_once(client, django_user_model, settings):
    settings.API_TOKEN_REQUIRED = True
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    client.force_login(boss)
    response = client.post("/admin/core/apitoken/add/", {"name": "java client", "user": boss.pk, "scope": "write",
                                                          "expires_at_0": "", "expires_at_1": ""}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    secret = next(word for text in shown for word in text.split("：") if word.startswith("pocr_"))
    assert remote(secret).get("/api/ocr/batch/tasks").status_code == 200
    token = ApiToken.objects.get()
    assert secret not in client.get(f"/admin/core/apitoken/{token.pk}/change/").content.decode()

    client.post("/admin/core/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert remote(secret).get("/api/ocr/batch/tasks").status_code == 401
