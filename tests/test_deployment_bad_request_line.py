"""Requests gunicorn refuses itself, before Django sees them, get the API's JSON error (ocrsite/gunicorn_worker.py)
rather than gunicorn's HTML page: the README's `tasks?book_id=廖氏族谱` sent unencoded (issue #14), a malformed
header, a request line over limit_request_line."""

import json
import shutil
import socket
import subprocess
from urllib.parse import urlsplit

import pytest

from .deployment_support import free_port, manage, service_env, serving

pytestmark = pytest.mark.slow

UNENCODED = "/api/ocr/batch/tasks?status=completed&book_id=廖氏族谱&page=1&page_size=20"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-request")
    env = service_env(tmp, embedded=True, PORT=free_port(), OCR_WARMUP="false")
    assert manage(["migrate", "--noinput"], env, timeout=180).returncode == 0
    with serving(["runservice", "--no-worker", "--no-collectstatic"], env, tmp / "web.out") as url:
        yield url


def parse(answer: bytes) -> tuple[int, dict, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def exchange(base: str, request: bytes) -> tuple[int, dict, bytes]:
    """The answer to `request`, sent as is over a socket (no client library would send these)."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return parse(answer)


def assert_json_error(status, headers, body, expected_status, code):
    assert status == expected_status, body
    assert headers["content-type"] == "application/json", headers
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)
    assert error["success"] is False and error["error"] == code, error
    assert error["message"] and error["detail"]
    return error


def test_an_unencoded_chinese_query_is_a_json_400(base):
    answer = exchange(base, f"GET {UNENCODED} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    error = assert_json_error(*answer, 400, "BAD_REQUEST")
    assert "URL 编码" in error["message"] and "--data-urlencode" in error["message"]
    assert "Invalid HTTP request line" in error["detail"]


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_curl_as_the_seed_readme_sent_it_gets_json_and_the_readme_form_works(base):
    unencoded = subprocess.run(["curl", "-sS", "-i", base + UNENCODED], capture_output=True, timeout=30)
    assert unencoded.returncode == 0, unencoded.stderr
    assert_json_error(*parse(unencoded.stdout), 400, "BAD_REQUEST")

    # The README's form: curl encodes the Chinese book id itself.
    encoded = subprocess.run(["curl", "-sS", "-i", "-G", base + "/api/ocr/batch/tasks",
                              "--data-urlencode", "status=completed", "--data-urlencode", "book_id=廖氏族谱",
                              "-d", "page=1", "-d", "page_size=20"], capture_output=True, timeout=30)
    status, headers, body = parse(encoded.stdout)
    assert status == 200 and headers["content-type"] == "application/json", encoded.stdout
    assert json.loads(body)["tasks"] == []


def test_a_malformed_header_is_a_json_400(base):
    answer = exchange(base, b"GET /api/ocr/live HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n")
    assert "Invalid HTTP Header" in assert_json_error(*answer, 400, "BAD_REQUEST")["detail"]


def test_a_request_line_over_the_limit_keeps_gunicorns_414(base):
    answer = exchange(base, b"GET /api/ocr/live?q=" + b"x" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert_json_error(*answer, 414, "URI_TOO_LONG")


def test_the_service_still_answers_afterwards(base):
    request = b"GET /api/ocr/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    status, _, body = exchange(base, request)
    assert status == 200 and json.loads(body)
