"""camelCase beside snake_case (API.md, "Java clients"; core/naming.py): JSON request fields may be spelled
in camelCase, and answers carry the camelCase twins of the keys the seed's Java classes read, at any depth,
with every snake_case key still there. In-process on the test MariaDB, the real engine on rendered pages."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from batches.models import BatchTask
from core.naming import snake_case
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db

API = "/api/ocr"


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def book(book_dir):
    write_page(book_dir / "001.png", ["驼峰第一页"])
    write_page(book_dir / "卷二" / "002.png", ["驼峰第二页"])
    return book_dir


def png(text: str) -> io.BytesIO:
    buffer = io.BytesIO()
    render_lines([text], size=32, margin=20).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "page.png"
    return buffer


def test_snake_case_spelling():
    assert [snake_case(name) for name in ("bookId", "useAngleCls", "filePatterns", "book_id", "format", "Book")] == \
        ["book_id", "use_angle_cls", "file_patterns", "book_id", "format", "Book"]


def test_scan_takes_camel_case_fields_and_answers_both_spellings(client, book):
    response = client.post(f"{API}/batch/scan", {
        "bookId": "驼峰族谱", "directory": str(book), "autoStart": False, "useAngleCls": False,
        "textLayout": "vertical_rl", "outputFormat": "column_by_column", "filePatterns": ["*.png"],
        "recursive": False}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["taskId"] == body["task_id"] and body["book_id"] == "驼峰族谱"
    task = BatchTask.objects.get(task_id=body["task_id"])
    assert (task.book_id, task.status, task.use_angle_cls, task.text_layout, task.output_format,
            task.file_patterns, task.recursive, task.total_files) == \
        ("驼峰族谱", "pending", False, "vertical_rl", "column_by_column", ["*.png"], False, 1)

    status = client.get(f"{API}/batch/status/{task.task_id}").json()
    assert (status["taskId"], status["processedFiles"], status["successFiles"]) == \
        (status["task_id"], status["processed_files"], status["success_files"]) == (task.task_id, 0, 0)
    listed = client.get(f"{API}/batch/tasks").json()["tasks"]
    assert [(t["taskId"], t["task_id"]) for t in listed] == [(task.task_id, task.task_id)]


def test_both_spellings_with_different_values_are_refused(client, book):
    response = client.post(f"{API}/batch/scan", {"book_id": "甲", "bookId": "乙", "directory": str(book)},
                           format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_PARAMETER" and response.json()["field"] == "book_id"
    assert not BatchTask.objects.exists()

    same = client.post(f"{API}/batch/scan", {"book_id": "甲", "bookId": "甲", "directory": str(book),
                                             "autoStart": False}, format="json")
    assert same.status_code == 201 and same.json()["book_id"] == "甲"


def test_twins_inside_nested_objects(client, book):
    first = client.post(f"{API}/batch/scan", {"bookId": "驼峰族谱", "directory": str(book), "autoStart": False},
                        format="json").json()
    duplicate = client.post(f"{API}/batch/scan", {"bookId": "驼峰族谱", "directory": str(book)}, format="json")
    assert duplicate.status_code == 409
    existing = duplicate.json()["existing_task"]
    assert existing["taskId"] == existing["task_id"] == first["task_id"]

    export = client.post(f"{API}/batch/export", {"taskId": first["task_id"], "format": "json"}, format="json")
    assert export.status_code == 200, export.content
    assert export.json()["taskId"] == export.json()["task_id"] == first["task_id"]


def test_recognition_results_carry_processing_time_twice(client):
    single = client.post(f"{API}/recognize", {"file": png("第一卷")}, format="multipart").json()
    assert single["text"] == "第一卷" and single["processingTime"] == single["processing_time"] > 0
    batch = client.post(f"{API}/recognize-batch", {"files": [png("第一卷"), png("第二卷")]},
                        format="multipart").json()
    assert [(item["text"], item["processingTime"] == item["processing_time"] > 0) for item in batch] == \
        [("第一卷", True), ("第二卷", True)]


def test_schema_documents_the_twins(client):
    components = client.get("/openapi.json").json()["components"]["schemas"]
    for component, twins in {"TaskStatus": ("taskId", "processedFiles", "successFiles"),
                             "TaskSummary": ("taskId",), "RecognitionResult": ("processingTime",),
                             "Page": ("processingTime",), "ExportResponse": ("taskId",)}.items():
        properties = components[component]["properties"]
        for twin in twins:
            assert properties[twin]["type"] == properties[snake_case(twin)]["type"], (component, twin)


def test_recognize_form_fields_in_camel_case(client):
    image = encode(render_lines(["Hello PaddleOCR"], size=40, margin=20))
    response = client.post("/api/ocr/recognize", {"file": SimpleUploadedFile("a.png", image, "image/png"),
                                                  "returnDetails": "false"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["details"] is None and "PaddleOCR" in response.json()["text"]
