"""The WSGI application (gunicorn: ocrsite/gunicorn.conf.py), with chunked request bodies made readable.

Django reads a body by its Content-Length, which a chunked request (Transfer-Encoding: chunked) has not:
it would see an empty body ("missing field file" for a valid upload). gunicorn de-chunks the body and says
so with wsgi.input_terminated; ChunkedBodies reads it into a temporary file, bounded like any other body
(MAX_REQUEST_SIZE for a multipart form, DATA_UPLOAD_MAX_MEMORY_SIZE for anything else), and hands Django
that file with its length. Over the bound it is a 413 REQUEST_TOO_LARGE; a chunked body that the server
did not de-chunk is a 411 LENGTH_REQUIRED. Both are the API's JSON errors.
"""

import json
import os
import tempfile
from http import HTTPStatus

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (Django is set up now)

from core.errors import LengthRequired, RequestTooLarge  # noqa: E402

BLOCK = 64 * 1024
# Past the bound the rest of a body is still read (and dropped) up to this much, so that a client that is
# still sending gets the 413 rather than a reset connection; beyond it the connection is closed.
DRAIN_BYTES = 16 * 1024 * 1024


def body_limit(environ) -> int:
    if environ.get("CONTENT_TYPE", "").lower().startswith("multipart/"):
        return settings.MAX_REQUEST_SIZE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def copy_body(stream, target, limit: int) -> int:
    """Bytes copied from `stream` to its end into `target`; limit + 1 once it holds more than `limit`."""
    size = 0
    while block := stream.read(BLOCK):
        if size + len(block) > limit:
            return limit + 1
        target.write(block)
        size += len(block)
    return size


def drained(stream) -> bool:
    """Whether the body ended within DRAIN_BYTES more."""
    left = DRAIN_BYTES
    while left > 0:
        block = stream.read(min(BLOCK, left))
        if not block:
            return True
        left -= len(block)
    return False


def error_response(start_response, error, close: bool = False):
    body = json.dumps(error.as_dict(), ensure_ascii=False).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    start_response(f"{error.status_code} {HTTPStatus(error.status_code).phrase}", headers)
    return [body]


class ClosingResponse:
    """The application's response, closing the spooled body after it (when the server closes the response)."""

    def __init__(self, response, body):
        self.response, self.body = response, body

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.body.close()


class ChunkedBodies:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return error_response(start_response, LengthRequired(), close=True)
        limit = body_limit(environ)
        body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
                                             dir=settings.FILE_UPLOAD_TEMP_DIR)
        size = copy_body(environ["wsgi.input"], body, limit)
        if size > limit:
            body.close()
            error = RequestTooLarge(f"分块传输的请求体超过上限 {limit} 字节", max_bytes=limit)
            return error_response(start_response, error, close=not drained(environ["wsgi.input"]))
        body.seek(0)
        environ = {**environ, "wsgi.input": body, "CONTENT_LENGTH": str(size)}
        del environ["HTTP_TRANSFER_ENCODING"]
        return ClosingResponse(self.app(environ, start_response), body)


application = ChunkedBodies(django_application)
