"""Request ids: every request carries one, in its response header and in every log line it writes.

A client (or a proxy in front) may send `X-Request-ID`; a valid value (at most 128 characters of letters,
digits and `._:-`) is kept, anything else is replaced by a new random id. The id is returned in the
`X-Request-ID` response header and is available to logging through `RequestIdFilter`, which adds
`%(request_id)s` to every record (`-` outside a request). Celery tasks set it to their task id
(see ocrsite/worker.py), so that the lines a page writes in the worker can be found too.
"""

import contextvars
import logging
import re
import uuid

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()


def new_request_id(incoming: str | None = None) -> str:
    if incoming and _VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    """Reads or creates the request id, exposes it as `request.request_id` and in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = new_request_id(request.headers.get(HEADER))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response
