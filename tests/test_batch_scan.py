"""POST /api/ocr/batch/scan: creating a task, the scan roots, options and duplicate detection (no worker:
the pages are not run here)."""


import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from batches.models import BatchTask, OcrResult
from tests.batch_support import book_dir  # noqa: F401 (fixture)

URL = "/api/ocr/batch/scan"
pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


def scan(client, **body):
    return client.post(URL, body, format="json")


def test_scan_creates_task_with_pages_in_book_order(client, book_dir):
    for name in ["卷二/001.png", "卷一/10.png", "卷一/2.png", "notes.txt", ".hidden.png", "卷一/sub/3.PNG"]:
        (book_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (book_dir / name).write_bytes(b"x")
    response = scan(client, book_id="李氏族谱", directory=str(book_dir), auto_start=False)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True and body["book_id"] == "李氏族谱" and body["status"] == "pending"
    assert body["total_files"] == 4 and body["message"]
    task = BatchTask.objects.get(task_id=body["task_id"])
    assert task.source_directory == str(book_dir.resolve()) and task.active_fingerprint
    rows = list(OcrResult.objects.filter(task=task).order_by("sequence").values_list("relative_path", "volume",
                                                                                      "page_number", "status"))
    assert rows == [("卷一/2.png", "1", 2, "pending"), ("卷一/sub/3.PNG", "1", 3, "pending"),
                    ("卷一/10.png", "1", 10, "pending"), ("卷二/001.png", "2", 1, "pending")]
    assert task.book.total_pages == 4 and task.book.total_volumes == 2


def test_relative_directory_is_taken_under_the_first_scan_root(client, book_dir):
    (book_dir / "1.png").write_bytes(b"x")
    response = scan(client, book_id="b", directory=book_dir.name, auto_start=False)
    assert response.status_code == 201
    assert BatchTask.objects.get(task_id=response.json()["task_id"]).source_directory == str(book_dir.resolve())


def test_recursive_false_and_file_patterns(client, book_dir):
    for name in ["a.jpg", "b.JPG", "c.png", "sub/d.jpg"]:
        (book_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (book_dir / name).write_bytes(b"x")
    body = scan(client, book_id="b", directory=str(book_dir), recursive=False, file_patterns=["*.jpg"],
                auto_start=False).json()
    assert body["total_files"] == 2
    body = scan(client, book_id="b", directory=str(book_dir), file_patterns=["*.JPG"], auto_start=False).json()
    assert body["total_files"] == 3


def outside_answers(client, directories):
    answers = []
    for directory in directories:
        response = scan(client, book_id="b", directory=directory)
        answers.append((response.status_code, response.json()))
    return answers


def test_paths_outside_the_roots_get_one_answer_whether_or_not_they_exist(client, book_dir, tmp_path):
    root = settings.SCAN_ROOTS[0]
    (book_dir / "escape").symlink_to("/etc")
    (book_dir / "escape_missing").symlink_to("/nonexistent-h2")
    answers = outside_answers(client, [
        "/etc", "/nonexistent-h2/deeper", str(tmp_path), "../../etc", "../../nonexistent-h2",
        f"{root}/../../etc", f"{root}/../nonexistent-h2", str(book_dir / "escape"), str(book_dir / "escape_missing"),
        f"{book_dir.name}/../../../etc",
    ])
    codes = {status for status, _ in answers}
    bodies = {(body["error"], body["message"]) for _, body in answers}
    assert codes == {400}
    # The caller is on this machine: it is told where scans are allowed, the same words for every path.
    assert bodies == {("PATH_NOT_ALLOWED", f"目录不在允许扫描的范围内（SCAN_ROOTS）：允许的目录为 {root}")}
    assert {tuple(body["allowed_roots"]) for _, body in answers} == {(str(root),)}
    assert not BatchTask.objects.exists()


@override_settings(API_TOKEN_REQUIRED=False, API_TRUSTED_NETWORKS=[])
def test_an_anonymous_caller_from_elsewhere_is_not_told_the_roots(book_dir):
    outside = APIClient(REMOTE_ADDR="203.0.113.30")
    response = outside.post("/api/ocr/batch/scan", {"book_id": "x", "directory": "/etc"}, format="json")
    body = response.json()
    assert (response.status_code, body["error"]) == (400, "PATH_NOT_ALLOWED")
    assert "allowed_roots" not in body and str(settings.SCAN_ROOTS[0]) not in body["message"]


def test_missing_directory_and_file_inside_the_roots(client, book_dir):
    response = scan(client, book_id="b", directory=str(book_dir / "missing"))
    assert response.status_code == 400 and response.json()["error"] == "DIRECTORY_NOT_FOUND"
    (book_dir / "1.png").write_bytes(b"x")
    response = scan(client, book_id="b", directory=str(book_dir / "1.png"))
    assert response.status_code == 400 and response.json()["error"] == "NOT_A_DIRECTORY"


def test_symlink_inside_the_roots_is_followed_and_files_escaping_are_skipped(client, book_dir):
    real = book_dir / "real"
    real.mkdir()
    (real / "1.png").write_bytes(b"x")
    (real / "passwd.png").symlink_to("/etc/passwd")
    (book_dir / "link").symlink_to(real)
    response = scan(client, book_id="b", directory=str(book_dir / "link"), auto_start=False)
    assert response.status_code == 201
    task = BatchTask.objects.get(task_id=response.json()["task_id"])
    assert task.source_directory == str(real.resolve())
    assert list(task.results.values_list("relative_path", flat=True)) == ["1.png"]


@pytest.mark.parametrize("body, field", [
    ({"directory": "x"}, "book_id"),
    ({"book_id": "b"}, "directory"),
    ({"book_id": "b", "directory": "x", "lang": "klingon"}, "lang"),
    ({"book_id": "b", "directory": "x", "text_layout": "diagonal"}, "text_layout"),
    ({"book_id": "b", "directory": "x", "output_format": "poem"}, "output_format"),
    ({"book_id": "b", "directory": "x", "priority": 11}, "priority"),
    ({"book_id": "b", "directory": "x", "use_angle_cls": "maybe"}, "use_angle_cls"),
])
def test_invalid_parameters(client, body, field):
    response = scan(client, **body)
    assert response.status_code == 400
    data = response.json()
    assert data["error"] == "INVALID_PARAMETER" and field in data["message"]


def test_duplicate_of_an_unfinished_task_is_refused_with_the_existing_task(client, book_dir):
    (book_dir / "1.png").write_bytes(b"x")
    first = scan(client, book_id="b", directory=str(book_dir), auto_start=False).json()
    again = scan(client, book_id="other", directory=str(book_dir) + "/", auto_start=False)
    assert again.status_code == 409
    body = again.json()
    assert body["success"] is False and body["error"] == "DUPLICATE_TASK" and body["message"]
    assert body["existing_task"] == {"task_id": first["task_id"], "taskId": first["task_id"], "status": "pending",
                                     "progress": 0.0}
    # Other options are another task.
    assert scan(client, book_id="b", directory=str(book_dir), text_layout="vertical_rl",
                auto_start=False).status_code == 201
    # Once the first is finished (cancelled here), the same scan may run again.
    assert client.post(f"/api/ocr/batch/cancel/{first['task_id']}").status_code == 200
    assert scan(client, book_id="b", directory=str(book_dir), auto_start=False).status_code == 201


def test_duplicate_detection_can_be_switched_off(client, book_dir, settings):
    settings.TASK_DUPLICATE_DETECTION = False
    (book_dir / "1.png").write_bytes(b"x")
    assert scan(client, book_id="b", directory=str(book_dir), auto_start=False).status_code == 201
    assert scan(client, book_id="b", directory=str(book_dir), auto_start=False).status_code == 201


def test_empty_directory_completes_at_once(client, book_dir):
    body = scan(client, book_id="b", directory=str(book_dir)).json()
    assert body["total_files"] == 0 and body["status"] == "completed"


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, '{"book_id": "b", "directory": ', "not json"])
def test_malformed_and_deeply_nested_json_is_a_coded_400(client, body):
    response = client.generic("POST", "/api/ocr/batch/scan", body, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"] == "INVALID_REQUEST_BODY" and response.json()["success"] is False
    assert BatchTask.objects.count() == 0
