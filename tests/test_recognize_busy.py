"""Admission of recognition requests in a gunicorn process (recognition/services.request_slot): at most
OCR_MAX_REQUESTS_PER_PROCESS are taken, one more is a 503 BUSY with Retry-After at once, and the process's
remaining threads keep answering the probes while every admitted request waits for the engine."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from .deployment_support import free_port, get, kill_group, manage, service_env, spawn, wait_until
from .test_deployment_gunicorn import multipart, page

pytestmark = pytest.mark.slow


def test_requests_beyond_the_slots_are_busy_and_probes_keep_answering(tmp_path):
    port = free_port()
    env = service_env(tmp_path, embedded=True, PORT=port, WORKERS=1, GUNICORN_THREADS=4,
                      OCR_MAX_REQUESTS_PER_PROCESS=2)
    assert manage(["migrate", "--noinput"], env, timeout=180).returncode == 0
    log = tmp_path / "web.out"
    web = spawn(["runservice", "--no-worker", "--no-collectstatic"], env, log)
    base = f"http://127.0.0.1:{port}"
    answers, probes = [], []
    try:
        wait_until(lambda: get(f"{base}/api/ocr/live", timeout=2)[0] == 200, 180, what="/live", process=web, log=log)
        body, content_type = multipart([(f"p{n}.png", page(n)) for n in range(1, 4)], {"lang": "ch"})

        def send():
            request = urllib.request.Request(f"{base}/api/ocr/recognize-batch", data=body, method="POST",
                                             headers={"Content-Type": content_type})
            try:
                with urllib.request.urlopen(request, timeout=300) as response:
                    answers.append((response.status, None, json.loads(response.read())))
            except urllib.error.HTTPError as error:
                answers.append((error.code, error.headers.get("Retry-After"), json.loads(error.read())))

        clients = [threading.Thread(target=send) for _ in range(5)]
        for client in clients:
            client.start()
        wait_until(lambda: len(answers) >= 3, 60, what="the requests beyond the slots answered")
        while any(client.is_alive() for client in clients):
            probes.append(get(f"{base}/api/ocr/live", timeout=10)[0])
        for client in clients:
            client.join()
    finally:
        kill_group(web)
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200, 200, 503, 503, 503], answers
    for status, retry_after, body in answers:
        if status == 503:
            assert body["error"] == "BUSY" and body["success"] is False and int(retry_after) > 0
        else:
            assert [item["success"] for item in body] == [True, True, True]
    assert probes and set(probes) == {200}
