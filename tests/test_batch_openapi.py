"""The batch endpoints are in the OpenAPI schema (/openapi.json, shown at /docs)."""

from django.test import Client


def test_batch_endpoints_are_documented():
    schema = Client().get("/openapi.json").json()
    expected = {"/api/ocr/batch/scan": "post", "/api/ocr/batch/start/{task_id}": "post",
                "/api/ocr/batch/status/{task_id}": "get", "/api/ocr/batch/cancel/{task_id}": "post",
                "/api/ocr/batch/retry/{task_id}": "post", "/api/ocr/batch/delete/{task_id}": "post",
                "/api/ocr/batch/tasks": "get", "/api/ocr/batch/export": "post",
                "/api/ocr/batch/download/{task_id}": "get"}
    for path, method in expected.items():
        assert method in schema["paths"][path], path
    scan = schema["paths"]["/api/ocr/batch/scan"]["post"]
    ref = scan["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][ref]["properties"]
    assert set(fields) >= {"book_id", "directory", "lang", "use_angle_cls", "text_layout", "output_format",
                           "recursive", "file_patterns", "priority", "auto_start"}
    assert {"201", "400", "409"} <= set(scan["responses"])
