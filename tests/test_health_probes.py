"""Liveness and readiness: GET /api/ocr/live and /api/ocr/ready (ocrsite/ops_views.py)."""

import pytest
from django.test import override_settings

from ocrsite import ops
from recognition.engines import runtime

from .deployment_support import free_port

# The probes open their own connection to the database Django uses: the test database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def warmup_state():
    saved = dict(runtime.WARMUP)
    yield runtime.WARMUP
    runtime.WARMUP.clear()
    runtime.WARMUP.update(saved)


def test_live_answers_without_asking_any_dependency(client, settings):
    settings.REDIS_PORT = free_port()  # even with the broker down
    response = client.get("/api/ocr/live")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "alive" and body["version"] == settings.APP_VERSION and body["pid"] > 0


def test_ready_when_database_engine_and_broker_answer(client):
    response = client.get("/api/ocr/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "engine", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["engine"]["detail"] in {"loaded", "loadable (loads on first use)"}


def test_not_ready_when_the_broker_is_down_and_says_how_to_fix_it(client, settings):
    if not settings.REDIS_HOST:
        settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent/queue"}
    else:
        settings.REDIS_PORT = free_port()
    response = client.get("/api/ocr/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["fix"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_not_ready_when_the_database_is_down(client, settings):
    database = dict(settings.DATABASES["default"])
    if database["ENGINE"].endswith("sqlite3"):
        database["NAME"] = "/nonexistent/folder/db.sqlite3"
    else:
        database["PORT"] = free_port()
    with override_settings(DATABASES={"default": database}):
        response = client.get("/api/ocr/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] is False
    assert "fix" in body["checks"]["database"]


def test_not_ready_after_a_failed_engine_warm_up(client, warmup_state, monkeypatch):
    monkeypatch.setattr("recognition.engines.loaded_engines", lambda: [])
    warmup_state.update(state="failed", error="model file is corrupt")
    response = client.get("/api/ocr/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["engine"] == {"ok": False, "detail": "warm-up failed: model file is corrupt",
                                        "fix": "see `python manage.py check --tag ocr` for the model files and "
                                               "OCR_* settings"}


def test_not_ready_when_no_model_reads_the_language(client, settings, monkeypatch):
    monkeypatch.setattr("recognition.engines.loaded_engines", lambda: [])
    settings.OCR_LANG = "klingon"
    body = client.get("/api/ocr/ready").json()
    assert body["checks"]["engine"]["ok"] is False
    assert "OCR_LANG='klingon'" in body["checks"]["engine"]["detail"]


def test_warm_up_failure_is_kept_not_raised(settings, warmup_state):
    settings.OCR_LANG = "klingon"  # no installed model reads it: the engine cannot be loaded
    settings.OCR_WARMUP = True
    assert ops.warm_up("test") is False
    assert warmup_state["state"] == "failed" and "klingon" in warmup_state["error"]


def test_probes_only_answer_get(client):
    assert client.post("/api/ocr/live").status_code == 405
    assert client.post("/api/ocr/ready").status_code == 405
