"""The whole API fuzzed from its own OpenAPI schema (/openapi.json, drf-spectacular) with schemathesis.

Every operation of the schema gets generated requests, valid and invalid (schemathesis' positive and
negative modes), in-process through Django's WSGI handler on the test MariaDB, as five callers:

- `admin`, `write`, `read`: `Authorization: Bearer <token>` of that scope (the read token's writes are 403,
  the write token's user does not own every task: 403 on the others);
- `trusted`: no token, from 127.0.0.1 (API_TRUSTED_NETWORKS: let in as the machine's operator);
- `untrusted`: no token, API_TRUSTED_NETWORKS empty and API_TOKEN_REQUIRED on: every call but /health
  must be a 401 `{"success": false, "error": "UNAUTHENTICATED", ...}`.

Each response must be no 5xx, have a status code the schema documents for that operation, a documented
content type and a body that conforms (schemathesis' checks, `call_and_validate`). Uploads are small
(schemathesis' 1-pixel samples, two rendered text images, random bytes up to 2 KiB), so the OCR operations
run the real engine on small inputs only; task ids are the fixture's real tasks half of the time.

Bounded: MAX_EXAMPLES per operation and caller (FUZZ_MAX_EXAMPLES overrides it), no shrinking, no
example database; the whole file takes about two minutes on 2 cores.
"""

import io
import json
import os
import uuid

import pytest
import schemathesis
from schemathesis.core.file_samples import FILE_SAMPLES
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, settings as hypothesis_settings, strategies as st

from tests.pages import render_lines

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
CALLERS = ["admin", "write", "read", "trusted", "untrusted"]
UNTRUSTED_ADDRESS = "203.0.113.7"  # TEST-NET-3: outside every trusted network
OPEN_PATHS = {"/api/ocr/health"}  # answered to anyone (load balancers)


def _png(lines: list[str], size: int = 24) -> bytes:
    buffer = io.BytesIO()
    render_lines(lines, size=size, margin=12).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    render_lines(lines, size=24, margin=12).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


UPLOADS = [_png(["李氏族谱 Hello 2024"]), _jpeg(["第一卷"])]

# Multipart files are `format: binary`: small real images first (schemathesis' own 1-pixel PNG/JPEG/GIF/
# WebP/PDF/ZIP samples come with its default strategy), then random bytes. Never large: the limits have
# their own tests (test_hostile_corpus.py).
schemathesis.openapi.format(
    "binary", st.one_of(st.sampled_from(UPLOADS), st.sampled_from(list(FILE_SAMPLES.values())),
                        st.binary(max_size=2048)))


class Caller:
    def __init__(self, name: str, secret: str | None, address: str, task_ids: list[str], directory: str):
        self.name = name
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        self.environ = {"REMOTE_ADDR": address}
        self.task_ids = task_ids
        self.directory = directory

    def __repr__(self):
        return f"Caller({self.name})"


def load_schema():
    """The schema as the running service serves it (GET /openapi.json through the WSGI handler; the schema
    view reads no database)."""
    from django.core.wsgi import get_wsgi_application

    loaded = schemathesis.openapi.from_wsgi("/openapi.json", get_wsgi_application(),
                                            environ_base={"REMOTE_ADDR": "127.0.0.1"})
    # No generated credentials (each caller sends its own) and no NUL characters: DRF refuses "\x00" in any
    # string field, which OpenAPI cannot express.
    loaded.config.generation.update(modes=["positive", "negative"], with_security_parameters=False,
                                    allow_x00=False)
    return loaded


@pytest.fixture(params=CALLERS)
def caller(request, transactional_db, settings):
    """A caller of one kind, and real tasks to aim at: one owned by the tokens' user, one by someone else
    (a write or read token gets 403 there), both with two real pages under the scan root."""
    from django.contrib.auth import get_user_model

    from batches import services
    from core.services import token_create
    from tests.batch_support import new_book_dir, write_page

    cache.clear()  # request rates counted by earlier runs (this run's own Redis database)
    users = get_user_model().objects
    owner = users.create_user(username=f"fuzz-owner-{uuid.uuid4().hex[:6]}", password="x")
    other = users.create_user(username=f"fuzz-other-{uuid.uuid4().hex[:6]}", password="x")
    task_ids, directory = [], None
    for user in (owner, other):
        folder = new_book_dir("fuzz")
        write_page(folder / "001.png", ["第一页"])
        write_page(folder / "002.png", ["第二页"])
        task = services.task_create(book_id="模糊测试", directory=str(folder), options=services.ScanOptions(),
                                    auto_start=False, owner=user)
        task_ids.append(task.task_id)
        directory = directory or str(folder)
    secret = None
    if request.param in ("admin", "write", "read"):
        _, secret = token_create(user=owner, name=f"fuzz {request.param}", scope=request.param)
    if request.param == "trusted":
        address = "127.0.0.1"
    else:
        # Tokens are used from outside the trusted networks too, so that the same request without the
        # token (schemathesis' ignored_auth check) must be a 401.
        settings.API_TRUSTED_NETWORKS = []
        settings.API_TOKEN_REQUIRED = True
        address = UNTRUSTED_ADDRESS
    return Caller(request.param, secret, address, task_ids, directory)


schema = load_schema()

# Schema-valid requests the contract still refuses for their content, which a schema cannot express (an
# upload that is not an image, a directory that is not under SCAN_ROOTS): (operation, status) -> codes.
CONTENT_REFUSALS = {
    ("POST", "/api/ocr/recognize"): {400: {"EMPTY_FILE", "CORRUPT_IMAGE", "ENCRYPTED_PDF"},
                                     413: {"IMAGE_TOO_LARGE", "TOO_MANY_PAGES"}, 415: {"UNSUPPORTED_FORMAT"}},
    ("POST", "/api/ocr/batch/scan"): {400: {"PATH_NOT_ALLOWED", "DIRECTORY_NOT_FOUND", "NOT_A_DIRECTORY"}},
}
CONTENT_REFUSALS[("POST", "/api/ocr/recognize-batch")] = CONTENT_REFUSALS[("POST", "/api/ocr/recognize")]
ACCEPTED = {200, 201, 401, 403, 404, 409, 429}
# Multipart fields the upload operations document. Extra fields are schema-valid (no additionalProperties:
# false), but a generated field name with control characters (\x1d, \x85: line breaks to Python) ends
# Django's multipart parsing, and the file after it is reported missing: not held against the schema.
UPLOAD_FIELDS = {"file", "files", "lang", "use_angle_cls", "detect_orientation", "return_details", "text_layout",
                 "output_format"}


def excluded_checks(caller):
    from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

    # positive_data_acceptance: replaced by the narrower rule on CONTENT_REFUSALS below.
    excluded = [positive_data_acceptance]
    if caller.name == "trusted":
        excluded.append(ignored_auth)  # a trusted network needs no token: that is the rule, not a leak
    return excluded


@schema.parametrize()
@schema.given(pick=st.sampled_from([None, 0, 1]))
@hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                     phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_api_answers_as_its_schema_says(case, pick, caller):
    positive = case.meta is None or case.meta.generation.mode.is_positive
    if pick is not None and positive:
        # Aim at a real task (random ids are only ever 404s); negative cases keep what was generated.
        if case.path_parameters and "task_id" in case.path_parameters:
            case.path_parameters["task_id"] = caller.task_ids[pick]
        if isinstance(case.body, dict) and "task_id" in case.body:
            case.body["task_id"] = caller.task_ids[pick]
        if isinstance(case.body, dict) and "directory" in case.body:
            case.body["directory"] = caller.directory
    response = case.call_and_validate(headers=caller.headers, environ_base=caller.environ,
                                      excluded_checks=excluded_checks(caller))
    status = response.status_code
    assert status < 500, response.text[:2000]
    content_type = response.headers.get("content-type", [""])[0]
    body = None
    if status >= 400:
        assert content_type.startswith("application/json"), (status, content_type)
        body = json.loads(response.content)
        assert body["success"] is False and isinstance(body["error"], str) and body["error"].isupper(), body
        assert isinstance(body.get("message"), str), body
    if caller.name == "untrusted" and case.operation.path not in OPEN_PATHS:
        assert (status, body and body["error"]) == (401, "UNAUTHENTICATED"), response.text[:500]
    extra_upload_fields = "multipart" in (case.media_type or "") and isinstance(case.body, dict) and \
        bool(set(case.body) - UPLOAD_FIELDS)
    if positive and status not in ACCEPTED and not extra_upload_fields:
        refusals = CONTENT_REFUSALS.get((case.method.upper(), case.operation.path), {})
        assert body is not None and body["error"] in refusals.get(status, ()), \
            f"schema-valid request refused: {case.method} {case.formatted_path} {case.body!r:.300} -> {status} " \
            f"{response.text[:800]}"
