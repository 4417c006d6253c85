"""A corpus of hostile inputs against a real running service (`manage.py runservice`: gunicorn + a Celery
worker, full mode on MariaDB and Redis): broken files of every format, decompression bombs, PDF page-size
and page-count bombs, an encrypted PDF, a 500-frame TIFF, oversized and chunked uploads, huge / deep / wide
JSON bodies, odd file names, path traversal in every path-like field, and a scanned directory full of bad
files and symlink loops.

Each case must get a clear 4xx JSON answer with its stable code (or, in a scan, a page recorded as failed
with its error), never a 5xx, an HTML page or a hang. Meanwhile the RSS of every process of the service is
sampled: it must stay under a bound derived from the limits the service runs with (printed with `-s`), and
afterwards the service must still answer /api/ocr/live and recognise a normal page.

The service runs with smaller limits than the defaults (MAX_UPLOAD_SIZE 5 MB, MAX_IMAGE_PIXELS 25 M,
PDF_MAX_PAGE_PIXELS 4 M, MAX_REQUEST_PIXELS 30 M) so that the cases stay fast; the bombs are far beyond them.
"""

import json
import os
import re
import threading
import time
import urllib.parse
from pathlib import Path

import psutil
import pytest
import requests

from tests import hostile_files as hf

from .deployment_support import free_port, get, kill_group, manage, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow

MB = 1024 * 1024
LIMITS = dict(MAX_UPLOAD_SIZE=5 * MB, MAX_IMAGE_PIXELS=25_000_000, PDF_MAX_PAGE_PIXELS=4_000_000,
              MAX_REQUEST_PIXELS=30_000_000, MAX_PAGES_PER_FILE=100, MAX_BATCH_FILES=10)
LIMITS["MAX_REQUEST_SIZE"] = LIMITS["MAX_UPLOAD_SIZE"] + MB
# What one request may legitimately hold in memory at once: the largest decoded page (RGB, and the
# pipeline's few working copies of it: 4 x 3 bytes a pixel), the body twice (spooled and read), and the
# detector's working memory on its largest input (DET_MAX_SIDE squared; ONNX Runtime keeps its arena: about
# 190 bytes a pixel measured on a 2000 x 2000 page, 256 allowed). The bound on growth adds 300 MB for the
# allocator, threads and caches.
DET_MAX_SIDE = 2000  # recognition/pipeline/detection.py
PAGE_PIXELS = max(LIMITS["MAX_IMAGE_PIXELS"], LIMITS["PDF_MAX_PAGE_PIXELS"])
ENGINE_BYTES = DET_MAX_SIDE ** 2 * 256
GROWTH_BOUND = PAGE_PIXELS * 3 * 4 + 2 * LIMITS["MAX_REQUEST_SIZE"] + ENGINE_BYTES + 300 * MB
SCAN_WAIT = 120


class Service:
    def __init__(self, base: str, process, log: Path, scans: Path, export_dir: Path):
        self.base, self.process, self.log, self.scans, self.export_dir = base, process, log, scans, export_dir
        self.samples: dict[int, dict] = {}
        self.baseline: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def processes(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> dict[int, tuple[str, int]]:
        found = {}
        for proc in self.processes():
            try:
                found[proc.pid] = (" ".join(proc.cmdline())[:90], proc.memory_info().rss)
            except psutil.Error:
                pass
        return found

    def _sample(self):
        while not self._stop.is_set():
            for pid, (name, rss) in self.rss().items():
                entry = self.samples.setdefault(pid, {"name": name, "peak": 0})
                entry["peak"] = max(entry["peak"], rss)
            self._stop.wait(0.2)

    def start_sampling(self):
        self.baseline = {pid: rss for pid, (_, rss) in self.rss().items()}
        self._thread.start()

    def stop_sampling(self):
        self._stop.set()
        self._thread.join(5)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not os.environ.get("DB_HOST") or not os.environ.get("REDIS_HOST"):
        pytest.skip("needs DB_HOST and REDIS_HOST (MariaDB and Redis)")
    import redis

    tmp_path = tmp_path_factory.mktemp("hostile")
    scans = tmp_path / "scans"
    scans.mkdir()
    port = free_port()
    env = service_env(tmp_path, PORT=port, SCAN_ROOTS=scans, OCR_WARMUP="true", WORKERS=1, GUNICORN_THREADS=4,
                      CELERY_WORKER_CONCURRENCY=1, **LIMITS)
    redis.Redis(host=env["REDIS_HOST"], port=int(env.get("REDIS_PORT") or 6379), db=int(env["REDIS_DB"])).flushdb()
    migrated = manage(["migrate", "--noinput"], env, timeout=300)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    log = tmp_path / "runservice.out"
    process = spawn(["runservice", "--no-collectstatic"], env, log)
    base = f"http://127.0.0.1:{port}"
    svc = Service(base, process, log, scans, Path(env["DATA_DIR"]) / "exports")
    children = []
    try:
        wait_until(lambda: get(f"{base}/api/ocr/ready", timeout=5)[0] == 200, 240, what="/ready", process=process,
                   log=log)
        children = svc.processes()
        assert_normal_recognition(svc)  # the engine warm, so that the baseline includes it
        svc.start_sampling()
        yield svc
    finally:
        svc.stop_sampling()
        try:
            stop(process, timeout=60)
        finally:
            kill_group(process)
            for child in children:  # gunicorn and celery run in sessions of their own
                try:
                    child.kill()
                except psutil.Error:
                    pass


def assert_normal_recognition(svc: Service) -> None:
    response = requests.post(svc.url("/api/ocr/recognize"), files={"file": ("page.png", hf.good("PNG"))},
                             timeout=120)
    assert response.status_code == 200, response.text[:1000]
    body = response.json()
    assert body["success"] is True and "李氏族谱" in body["text"], body


def check_error(response, expected: dict[int, set[str]] | set, *, allow_ok: bool = False, case: str = ""):
    """A JSON error with a stable code among `expected` ({status: {codes}}), or 200 when allow_ok."""
    status = response.status_code
    content_type = response.headers.get("Content-Type", "")
    answer = f"{case}: {status} {content_type} {response.text[:600]!r}"
    print(f"[hostile] {answer}")
    assert status < 500, answer
    if allow_ok and status == 200:
        return response.json()
    assert content_type.startswith("application/json"), answer
    body = response.json()
    body_ = body[0] if isinstance(body, list) else body
    assert status in expected and body_.get("error") in expected[status], answer
    assert body_["success"] is False and body_.get("message"), answer
    return body


# --- Uploads: POST /api/ocr/recognize -----------------------------------------------------------------------

CORRUPT = {400: {"CORRUPT_IMAGE"}}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp", "TIFF": "tif", "PDF": "pdf"}


def upload_cases():
    cases = []
    for fmt, ext in EXTENSIONS.items():
        data = hf.good(fmt)
        cases.append((f"empty-{ext}", f"empty.{ext}", lambda: b"", {400: {"EMPTY_FILE"}}, False))
        cases.append((f"truncated-{ext}", f"truncated.{ext}", lambda d=data: hf.truncated(d), CORRUPT, False))
        cases.append((f"header-only-{ext}", f"header.{ext}", lambda d=data: hf.header_only(d), CORRUPT, False))
        # Content replaced after the header: a BMP (raw pixels) may still decode, as noise: 200 is right.
        cases.append((f"corrupt-{ext}", f"corrupt.{ext}", lambda d=data: hf.corrupted(d), CORRUPT, fmt == "BMP"))
    too_large = {413: {"IMAGE_TOO_LARGE"}}
    cases += [
        ("text-named-jpg", "photo.jpg", lambda: "这不是图片，是一段文字。\n".encode() * 20, {415: {"UNSUPPORTED_FORMAT"}},
         False),
        ("png-bomb-50000x50000", "bomb.png", hf.png_bomb, too_large, False),
        ("jpeg-bomb-65000x65000", "bomb.jpg", hf.jpeg_bomb, too_large, False),
        ("bmp-bomb-40000x40000", "bomb.bmp", hf.bmp_bomb, too_large, False),
        ("tiff-bomb-100000x100000", "bomb.tif", hf.tiff_bomb, too_large, False),
        ("webp-bomb-16383x16383", "bomb.webp", hf.webp_bomb, {413: {"IMAGE_TOO_LARGE"}, 400: {"CORRUPT_IMAGE"}}, False),
        # 10 pages of 14400 pt: each rendered within PDF_MAX_PAGE_PIXELS, 40 M pixels in all > MAX_REQUEST_PIXELS.
        ("pdf-10-pages-14400pt", "big-pages.pdf", lambda: hf.pdf_pages(10, 14400), {413: {"TOO_MANY_PIXELS"}}, False),
        ("pdf-3000-pages", "many.pdf", lambda: hf.pdf_pages(3000), {413: {"TOO_MANY_PAGES"}}, False),
        ("pdf-encrypted", "secret.pdf", hf.encrypted_pdf, {400: {"ENCRYPTED_PDF"}}, False),
        ("tiff-500-frames", "frames.tif", lambda: hf.tiff_frames(500), {413: {"TOO_MANY_PAGES"}}, False),
        ("gif-not-supported", "anim.gif", lambda: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", {415: {"UNSUPPORTED_FORMAT"}},
         False),
    ]
    return cases


@pytest.mark.parametrize("name,file_name,build,expected,allow_ok", upload_cases(), ids=[c[0] for c in upload_cases()])
def test_hostile_upload(service, name, file_name, build, expected, allow_ok):
    response = requests.post(service.url("/api/ocr/recognize"), files={"file": (file_name, build())}, timeout=120)
    check_error(response, expected, allow_ok=allow_ok, case=name)


def test_pdf_page_size_bomb_is_rendered_within_the_page_pixel_cap(service):
    """One page of 14400 x 14400 pt (40000 px a side at 200 dpi) is rendered within PDF_MAX_PAGE_PIXELS."""
    started = time.monotonic()
    response = requests.post(service.url("/api/ocr/recognize"), files={"file": ("huge.pdf", hf.pdf_pages(1, 14400))},
                             timeout=120)
    print(f"[hostile] pdf-1-page-14400pt: {response.status_code} in {time.monotonic() - started:.1f} s "
          f"{response.text[:300]!r}")
    assert response.status_code == 200, response.text[:1000]
    body = response.json()
    page = (body.get("pages") or [body])[0]
    if "width" in page and "height" in page:
        assert page["width"] * page["height"] <= LIMITS["PDF_MAX_PAGE_PIXELS"], page


def test_oversized_upload_with_a_content_length(service):
    data = b"\xff\xd8\xff\xe0" + b"\x00" * (LIMITS["MAX_UPLOAD_SIZE"] + 100 * 1024)  # under MAX_REQUEST_SIZE
    response = requests.post(service.url("/api/ocr/recognize"), files={"file": ("big.jpg", data)}, timeout=120)
    check_error(response, {413: {"FILE_TOO_LARGE"}}, case="upload just over MAX_UPLOAD_SIZE")
    data = b"\xff\xd8\xff\xe0" + b"\x00" * (4 * LIMITS["MAX_REQUEST_SIZE"])
    response = requests.post(service.url("/api/ocr/recognize"), files={"file": ("huge.jpg", data)}, timeout=120)
    check_error(response, {413: {"FILE_TOO_LARGE", "REQUEST_TOO_LARGE"}}, case="upload 4x MAX_REQUEST_SIZE")


def test_oversized_chunked_upload_without_a_content_length(service):
    body, content_type = hf.multipart([("file", "chunked.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (4 * LIMITS["MAX_REQUEST_SIZE"]))])

    def chunks():
        for start in range(0, len(body), 256 * 1024):
            yield body[start:start + 256 * 1024]

    response = requests.post(service.url("/api/ocr/recognize"), data=chunks(), timeout=120,
                             headers={"Content-Type": content_type})  # a generator: Transfer-Encoding: chunked
    check_error(response, {413: {"FILE_TOO_LARGE", "REQUEST_TOO_LARGE"}}, case="chunked upload 4x MAX_REQUEST_SIZE")


def test_too_many_files_in_a_batch(service):
    files = [("files", (f"{n}.png", hf.good("PNG"))) for n in range(LIMITS["MAX_BATCH_FILES"] + 1)]
    response = requests.post(service.url("/api/ocr/recognize-batch"), files=files, timeout=120)
    check_error(response, {400: {"TOO_MANY_FILES"}, 413: {"REQUEST_TOO_LARGE"}}, case="11 files")


ODD_NAMES = [
    ("chinese-spaces-parens", "廖氏族谱 卷一 (1).JPG".encode("utf-8")),
    ("gbk-not-utf8", "廖氏族谱.jpg".encode("gbk")),
    ("invalid-utf8", b"\xff\xfe\xfd\x80.jpg"),
    ("very-long", ("很长的文件名" * 400 + ".jpg").encode("utf-8")),
    ("traversal-name", b"../../../../etc/passwd.jpg"),
    ("control-chars", b"a\x01\x1b[31mred\x7f.jpg"),
]


@pytest.mark.parametrize("name,raw_name", ODD_NAMES, ids=[case[0] for case in ODD_NAMES])
def test_odd_upload_names(service, name, raw_name):
    body, content_type = hf.multipart([("files", raw_name, hf.good("JPEG"))], {"lang": "ch"})
    response = requests.post(service.url("/api/ocr/recognize-batch"), data=body, timeout=120,
                             headers={"Content-Type": content_type})
    if response.status_code != 200:
        # A name Django cannot decode drops the file (INVALID_PARAMETER: files missing); a name longer than
        # the multipart header limit is a parse error.
        check_error(response, {400: {"INVALID_PARAMETER", "INVALID_REQUEST_BODY"}}, case=f"name {name}")
        return
    print(f"[hostile] name {name}: 200 {response.text[:200]!r}")
    [item] = response.json()
    assert item["success"] is True and "李氏族谱" in item["text"], item
    assert isinstance(item["file_name"], str) and item["file_name"], item
    if name == "chinese-spaces-parens":
        assert item["file_name"] == "廖氏族谱 卷一 (1).JPG"


# --- JSON bodies: POST /api/ocr/batch/scan and /export ------------------------------------------------------

def json_cases():
    deep = "[" * 100_000 + "]" * 100_000
    return [
        ("huge-2mb", json.dumps({"book_id": "x" * (2 * MB), "directory": "a"}), {413: {"REQUEST_TOO_LARGE"}}),
        ("huge-20mb", json.dumps({"book_id": "b", "directory": "a", "task_name": "y" * (20 * MB)}),
         {413: {"REQUEST_TOO_LARGE"}}),
        ("nested-100000", deep, {400: {"INVALID_REQUEST_BODY"}}),
        ("nested-40-in-a-field", json.dumps({"book_id": "b", "directory": "a",
                                             "file_patterns": json.loads("[" * 40 + "]" * 40)}),
         {400: {"INVALID_REQUEST_BODY"}}),
        ("wide-object-60000-keys", json.dumps({f"k{n}": n for n in range(60_000)}), {400: {"INVALID_REQUEST_BODY"}}),
        ("wide-array-100000", json.dumps({"book_id": "b", "directory": "a", "file_patterns": ["*.jpg"] * 100_000}),
         {400: {"INVALID_REQUEST_BODY"}}),
        ("not-json", "{book_id: 1,,}", {400: {"INVALID_REQUEST_BODY"}}),
        ("not-an-object", json.dumps(["book_id", "directory"]), {400: {"INVALID_PARAMETER", "INVALID_REQUEST_BODY"}}),
        ("invalid-utf8", b'{"book_id": "\xff\xfe", "directory": "a"}', {400: {"INVALID_REQUEST_BODY"}}),
    ]


@pytest.mark.parametrize("path", ["/api/ocr/batch/scan", "/api/ocr/batch/export"])
@pytest.mark.parametrize("name,body,expected", json_cases(), ids=[case[0] for case in json_cases()])
def test_hostile_json_body(service, path, name, body, expected):
    data = body.encode() if isinstance(body, str) else body
    response = requests.post(service.url(path), data=data, timeout=60, headers={"Content-Type": "application/json"})
    if path.endswith("export") and name == "not-an-object":
        expected = {400: {"INVALID_PARAMETER", "INVALID_REQUEST_BODY"}}
    check_error(response, expected, case=f"{path} {name}")


# --- Traversal ----------------------------------------------------------------------------------------------

def test_traversal_in_scan_directories(service, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    hf_page = hf.good("PNG")
    (outside / "001.png").write_bytes(hf_page)
    escape = service.scans / "escape"
    escape.symlink_to(outside, target_is_directory=True)
    refused = {400: {"PATH_NOT_ALLOWED"}}
    for directory in ["../../../../etc", "/etc", str(service.scans / ".." / ".."), "escape", str(escape),
                      "../outside", "/nonexistent/../../etc", "..", "sub/../../..", "%2e%2e/%2e%2e/etc",
                      "\\..\\..\\etc" if os.sep == "\\" else "/etc/../etc"]:
        response = requests.post(service.url("/api/ocr/batch/scan"), json={"book_id": "穿越", "directory": directory},
                                 timeout=30)
        if directory == "%2e%2e/%2e%2e/etc":  # taken literally: a folder of that name under the root
            check_error(response, {400: {"DIRECTORY_NOT_FOUND", "PATH_NOT_ALLOWED"}}, case=f"directory {directory}")
        else:
            check_error(response, refused, case=f"directory {directory}")


def wait_finished(service, task_id: str, timeout: float = SCAN_WAIT) -> dict:
    def finished():
        status = requests.get(service.url(f"/api/ocr/batch/status/{task_id}"), timeout=10).json()
        return status if status["status"] in ("completed", "failed", "cancelled") else None

    return wait_until(finished, timeout, interval=1, what=f"task {task_id} finished", process=service.process,
                      log=service.log)


def test_traversal_in_book_id_export_names_and_downloads(service):
    book = service.scans / "正常书"
    book.mkdir()
    (book / "001.png").write_bytes(hf.good("PNG"))
    response = requests.post(service.url("/api/ocr/batch/scan"),
                             json={"book_id": "../../../../tmp/pwn/..\\..\\x", "directory": str(book)}, timeout=30)
    print(f"[hostile] book_id traversal: {response.status_code} {response.text[:300]!r}")
    if response.status_code != 201:
        check_error(response, {400: {"INVALID_PARAMETER"}}, case="book_id with ../")
        return
    task_id = response.json()["task_id"]
    assert wait_finished(service, task_id)["status"] == "completed"
    for fmt in ("json", "csv", "txt"):
        export = requests.post(service.url("/api/ocr/batch/export"), json={"task_id": task_id, "format": fmt},
                               timeout=60)
        assert export.status_code == 200, export.text
        file_path = export.json()["file_path"]
        print(f"[hostile] export {fmt} of a ../ book_id: file_path={file_path!r}")
        assert ".." not in Path(file_path).parts and not Path(file_path).is_absolute(), file_path
        written = (service.export_dir / file_path).resolve()
        assert written.is_file() and written.is_relative_to(service.export_dir.resolve()), written
        download = requests.get(service.url(f"/api/ocr/batch/download/{task_id}?format={fmt}"), timeout=60)
        assert download.status_code == 200
        disposition = download.headers.get("Content-Disposition", "")
        names = re.findall(r'filename="([^"]*)"', disposition)
        names += [urllib.parse.unquote(value) for value in re.findall(r"filename\*=UTF-8''([^;]+)", disposition)]
        print(f"[hostile] download {fmt}: Content-Disposition {disposition!r}")
        assert names, disposition
        for name in names:  # a plain name: no folder in it, not hidden, not `..`
            assert "/" not in name and "\\" not in name and not name.startswith("."), disposition
    check_error(requests.get(service.url(f"/api/ocr/batch/download/{task_id}?format=../../../etc/passwd"),
                             timeout=30), {400: {"INVALID_PARAMETER"}}, case="download format=../")
    for bad_id in ["..%2F..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e", "..%5C..%5Cwin.ini", "a" * 5000]:
        for method, path in [("GET", "status"), ("GET", "download"), ("POST", "cancel"), ("POST", "retry"),
                             ("POST", "delete"), ("POST", "start")]:
            response = requests.request(method, service.url(f"/api/ocr/batch/{path}/{bad_id}"), timeout=30)
            check_error(response, {404: {"TASK_NOT_FOUND", "NOT_FOUND"}}, case=f"{method} {path}/{bad_id[:40]}")
    check_error(requests.post(service.url("/api/ocr/batch/export"),
                              json={"task_id": "../../../etc/passwd", "format": "json"}, timeout=30),
                {404: {"TASK_NOT_FOUND"}, 400: {"INVALID_PARAMETER"}}, case="export task_id=../")


# --- A scanned directory of hostile files -------------------------------------------------------------------

def write_hostile_book(folder: Path, outside: Path) -> dict[str, str]:
    """The files of a hostile book; returns {relative path: "good" | "bad"} of the regular files."""
    folder.mkdir(parents=True)
    kinds = {}

    def put(name: str | bytes, data: bytes, kind: str):
        path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
        with open(path, "wb") as handle:
            handle.write(data)
        kinds[os.fsdecode(name) if isinstance(name, bytes) else name] = kind

    put("001.png", hf.good("PNG"), "good")
    put("002.jpg", hf.good("JPEG"), "good")
    put("廖氏族谱 卷一 (1).JPG", hf.good("JPEG"), "good")
    put(("长" * 80 + ".png"), hf.good("PNG"), "good")  # 244 bytes: near the file system's 255
    put(b"\xff\xfe\xb9\xfe-not-utf8.png", hf.good("PNG"), "good")
    put("empty.jpg", b"", "bad")
    for fmt, ext in EXTENSIONS.items():
        put(f"truncated.{ext}", hf.truncated(hf.good(fmt)), "bad")
    put("text.jpg", "不是图片".encode() * 50, "bad")
    put("bomb.png", hf.png_bomb(), "bad")
    put("encrypted.pdf", hf.encrypted_pdf(), "bad")
    put("many-pages.pdf", hf.pdf_pages(3000), "bad")
    put("frames.tif", hf.tiff_frames(500), "bad")
    (folder / "loop").symlink_to(".", target_is_directory=True)        # a directory that contains itself
    (folder / "a.png").symlink_to(folder / "b.png")                    # a -> b -> a
    (folder / "b.png").symlink_to(folder / "a.png")
    (folder / "passwd.jpg").symlink_to("/etc/passwd")                  # a file outside the roots
    (folder / "outside").symlink_to(outside, target_is_directory=True)  # a folder outside the roots
    return kinds


def test_scan_of_a_hostile_directory_records_failed_pages(service, tmp_path):
    outside = tmp_path / "outside-book"
    outside.mkdir()
    (outside / "secret.png").write_bytes(hf.good("PNG"))
    folder = service.scans / "恶意目录"
    kinds = write_hostile_book(folder, outside)
    started = time.monotonic()
    response = requests.post(service.url("/api/ocr/batch/scan"),
                             json={"book_id": "恶意目录", "directory": str(folder), "recursive": True}, timeout=60)
    print(f"[hostile] scan of the hostile directory: {response.status_code} in {time.monotonic() - started:.1f} s "
          f"{response.text[:300]!r}")
    assert response.status_code == 201, response.text
    created = response.json()
    task_id = created["task_id"]
    status = wait_finished(service, task_id)
    print(f"[hostile] scan finished: {status['status']} total={status['total_files']} "
          f"success={status['success_files']} failed={status['failed_files']} in {time.monotonic() - started:.1f} s")
    assert status["status"] == "completed", status
    export = requests.post(service.url("/api/ocr/batch/export"), json={"task_id": task_id, "format": "json"},
                           timeout=60)
    assert export.status_code == 200, export.text
    pages = requests.get(service.url(f"/api/ocr/batch/download/{task_id}?format=json"), timeout=60).json()["pages"]
    by_path = {page["relative_path"]: page for page in pages}
    for page in pages:
        print(f"[hostile]   {page['relative_path'][:60]!r}: success={page['success']} "
              f"{(page.get('error') or page.get('raw_text') or '')[:80]!r}")
    # Nothing outside the directory is read, through a symlink or a loop.
    assert not any(path.startswith(("outside/", "loop/")) or path in ("passwd.jpg", "a.png", "b.png")
                   and by_path[path]["success"] for path in by_path), sorted(by_path)
    assert status["total_files"] <= len(kinds) + 3, sorted(by_path)
    for path, kind in kinds.items():
        if kind == "bad":
            assert path in by_path and by_path[path]["success"] is False, (path, by_path.get(path))
    for path in ("001.png", "002.jpg", "廖氏族谱 卷一 (1).JPG", "长" * 80 + ".png"):
        assert by_path[path]["success"] is True and "李氏族谱" in by_path[path]["raw_text"], by_path[path]
    # The name that is not UTF-8: listed (read, or failed with its reason), never a crash of the task.
    not_utf8 = [path for path in by_path if "not-utf8" in path]
    assert not_utf8, sorted(by_path)
    failed = [p for p in pages if p["success"] is False]
    assert status["failed_files"] == len(failed) and status["success_files"] == len(pages) - len(failed), status


# --- Afterwards ---------------------------------------------------------------------------------------------

def test_zz_service_still_serves_and_its_memory_stayed_bounded(service):
    """Runs last (file order): the service answers, recognises, and no process grew past the bound."""
    assert get(service.url("/api/ocr/live"), timeout=10)[0] == 200
    assert_normal_recognition(service)
    service.stop_sampling()
    after = service.rss()
    print(f"\n[hostile] RSS bound on growth: {GROWTH_BOUND / MB:.0f} MB (page {PAGE_PIXELS / 1e6:.0f} M px x 3 B x 4 "
          f"+ 2 x request {LIMITS['MAX_REQUEST_SIZE'] / MB:.0f} MB + detector {ENGINE_BYTES / MB:.0f} MB + 300 MB)")
    worst = 0
    for pid, entry in sorted(service.samples.items()):
        before = service.baseline.get(pid, min(service.baseline.values()))
        now = after.get(pid, (None, 0))[1]
        growth = entry["peak"] - before
        worst = max(worst, growth)
        print(f"[hostile] pid {pid} {entry['name'][:70]!r}: before {before / MB:.0f} MB, peak {entry['peak'] / MB:.0f} MB, "
              f"after {now / MB:.0f} MB, growth {growth / MB:+.0f} MB")
    assert service.samples, "no process was sampled"
    assert worst <= GROWTH_BOUND, f"a process grew by {worst / MB:.0f} MB > {GROWTH_BOUND / MB:.0f} MB"
