"""Duplicate scans racing: many concurrent requests for the same directory and options against a live
server (each request on its own database connection); exactly one wins, the others get DUPLICATE_TASK
naming the winner. The unique active_fingerprint column decides, not the check before it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from batches import services
from batches.models import BatchTask
from core.errors import ApiError
from tests.batch_support import book_dir  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 8


def test_concurrent_http_requests_one_wins(live_server, book_dir):
    for page in range(1, 4):
        (book_dir / f"{page}.png").write_bytes(b"x")
    barrier = threading.Barrier(RACERS)

    def post(_):
        barrier.wait()
        response = requests.post(live_server.url + "/api/ocr/batch/scan", timeout=60,
                                 json={"book_id": "race", "directory": str(book_dir), "auto_start": False})
        return response.status_code, response.json()

    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(post, range(RACERS)))
    winners = [body for status, body in answers if status == 201]
    losers = [body for status, body in answers if status == 409]
    assert len(winners) == 1 and len(losers) == RACERS - 1, answers
    assert all(body["error"] == "DUPLICATE_TASK" for body in losers)
    assert {body["existing_task"]["task_id"] for body in losers} == {winners[0]["task_id"]}
    assert BatchTask.objects.count() == 1 and BatchTask.objects.get().results.count() == 3


def test_concurrent_service_calls_past_the_precheck_one_wins(book_dir, monkeypatch):
    """Every racer passes the cheap check before the insert (as if all had read before any committed):
    the unique index alone lets exactly one through."""
    (book_dir / "1.png").write_bytes(b"x")
    monkeypatch.setattr(services.scanning, "_duplicate_precheck", lambda fingerprint: False)
    barrier = threading.Barrier(RACERS)
    options = services.ScanOptions.from_raw({})

    def create(_):
        from django.db import connection

        barrier.wait()
        try:
            return services.task_create(book_id="race2", directory=str(book_dir), options=options,
                                        auto_start=False).task_id
        except ApiError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(create, range(RACERS)))
    created = [outcome for outcome in outcomes if outcome != "DUPLICATE_TASK"]
    assert len(created) == 1 and outcomes.count("DUPLICATE_TASK") == RACERS - 1, outcomes
    assert BatchTask.objects.count() == 1
