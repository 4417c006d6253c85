"""Chunked request bodies (Transfer-Encoding: chunked, no Content-Length) under gunicorn: read into a
temporary file within the body limits (ocrsite/wsgi.py), so that a valid chunked upload is recognised and
an oversized one is a coded JSON error; forms over Django's field and file limits are JSON there too."""

import http.client
import io
import json
import uuid

import pytest

from ocrsite.wsgi import application
from tests.pages import render_lines

from .deployment_support import free_port, get, kill_group, manage, service_env, spawn, stop, wait_until

TITLE = "李氏族谱第一卷"
MAX_REQUEST_SIZE = 300_000


def multipart(parts: list[tuple[str, str | None, bytes]]) -> tuple[bytes, str]:
    """(field name, file name or None for a plain field, content) → body and content type."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, file_name, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{file_name}"' if file_name else "")
        body.write(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def png() -> bytes:
    buffer = io.BytesIO()
    render_lines([TITLE], size=40).save(buffer, "PNG")
    return buffer.getvalue()


def chunks(body: bytes, size: int = 16 * 1024):
    for start in range(0, len(body), size):
        yield body[start:start + size]


def send(port: int, path: str, body: bytes, content_type: str, chunked: bool = True):
    """(status, headers, JSON body) of a POST whose body goes chunked, without Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        if chunked:
            connection.request("POST", path, body=chunks(body), headers={"Content-Type": content_type},
                               encode_chunked=True)
        else:
            connection.request("POST", path, body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def assert_error(outcome, status, code):
    got_status, headers, body = outcome
    assert got_status == status, body
    assert headers["Content-Type"].startswith("application/json")
    assert body["success"] is False and body["error"] == code and body["message"], body
    return body


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("chunked")
    port = free_port()
    env = service_env(tmp_path, embedded=True, PORT=port, WORKERS=1, GUNICORN_THREADS=2,
                      MAX_REQUEST_SIZE=MAX_REQUEST_SIZE)
    assert manage(["migrate", "--noinput"], env, timeout=180).returncode == 0
    log = tmp_path / "web.out"
    web = spawn(["runservice", "--no-worker", "--no-collectstatic"], env, log)
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/api/ocr/live", timeout=2)[0] == 200, 180, what="/live",
                   process=web, log=log)
        yield port
        assert get(f"http://127.0.0.1:{port}/api/ocr/live", timeout=5)[0] == 200, "the service went down"
        stop(web, timeout=120)
    finally:
        kill_group(web)


pytestmark = pytest.mark.slow


def test_a_chunked_upload_is_recognised(service):
    body, content_type = multipart([("file", "page.png", png()), ("lang", None, b"ch")])
    status, _, result = send(service, "/api/ocr/recognize", body, content_type)
    assert status == 200, result
    assert result["success"] is True and TITLE in result["text"]


def test_a_chunked_batch_is_recognised(service):
    page = png()
    body, content_type = multipart([("files", "one.png", page), ("files", "two.png", page)])
    status, _, results = send(service, "/api/ocr/recognize-batch", body, content_type)
    assert status == 200, results
    assert [(item["file_name"], item["success"]) for item in results] == [("one.png", True), ("two.png", True)]


def test_a_chunked_upload_over_max_request_size_is_coded_json(service):
    body, content_type = multipart([("file", "big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * MAX_REQUEST_SIZE))])
    error = assert_error(send(service, "/api/ocr/recognize", body, content_type), 413, "REQUEST_TOO_LARGE")
    assert error["max_bytes"] == MAX_REQUEST_SIZE


def test_a_chunked_json_body_is_read_and_bounded(service):
    # Read: the serializer sees book_id (an empty body would lack both fields).
    error = assert_error(send(service, "/api/ocr/batch/scan", b'{"book_id": "b"}', "application/json"),
                         400, "INVALID_PARAMETER")
    assert error["fields"] == ["directory"]
    large = json.dumps({"book_id": "b", "directory": "d", "task_name": "x" * 2_000_000}).encode()
    assert_error(send(service, "/api/ocr/batch/scan", large, "application/json"), 413, "REQUEST_TOO_LARGE")


def test_forms_over_django_limits_are_coded_json_under_gunicorn(service):
    page = png()
    body, content_type = multipart([("files", f"p{number}.png", page) for number in range(12)])
    assert_error(send(service, "/api/ocr/recognize-batch", body, content_type, chunked=False), 400, "TOO_MANY_FILES")
    body, content_type = multipart([("file", "p.png", page)] + [(f"f{number}", None, b"x") for number in range(2000)])
    assert_error(send(service, "/api/ocr/recognize", body, content_type, chunked=False), 400, "TOO_MANY_FIELDS")


def test_a_chunked_body_the_server_did_not_dechunk_is_refused_with_411():
    # A WSGI server without wsgi.input_terminated (runserver's wsgiref) passes the raw chunked stream.
    answers = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/ocr/recognize", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "wsgi.url_scheme": "http", "HTTP_TRANSFER_ENCODING": "chunked",
               "CONTENT_TYPE": "multipart/form-data; boundary=x", "wsgi.input": io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n")}
    body = b"".join(application(environ, lambda status, headers: answers.append((status, dict(headers)))))
    [(status, headers)] = answers
    assert status.startswith("411") and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"] == "LENGTH_REQUIRED"
