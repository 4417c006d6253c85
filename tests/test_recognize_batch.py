"""POST /api/ocr/recognize-batch: results in input order, a failed file failing alone."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from tests.pages import encode, render_lines

URL = "/api/ocr/recognize-batch"


def upload(name, data):
    return SimpleUploadedFile(name, data)


def test_results_come_in_input_order_and_a_bad_file_fails_alone():
    files = [
        upload("one.png", encode(render_lines(["床前明月光"], face="serif"))),
        upload("broken.png", b"not an image at all"),
        upload("three.jpg", encode(render_lines(["疑是地上霜"], face="kai"), "JPEG", quality=90)),
    ]
    response = APIClient().post(URL, {"files": files, "lang": "ch"}, format="multipart")
    assert response.status_code == 200
    results = response.json()
    assert [r["file_name"] for r in results] == ["one.png", "broken.png", "three.jpg"]
    assert [r["success"] for r in results] == [True, False, True]
    assert results[0]["text"] == "床前明月光"
    assert results[2]["text"] == "疑是地上霜"
    assert results[1]["error"] == "UNSUPPORTED_FORMAT" and results[1]["message"]


def test_options_apply_to_every_file():
    files = [upload(f"{n}.png", encode(render_lines([text], face="sans"))) for n, text in enumerate(["春眠不觉晓", "处处闻啼鸟"])]
    results = APIClient().post(URL, {"files": files, "return_details": "false"}, format="multipart").json()
    assert [r["text"] for r in results] == ["春眠不觉晓", "处处闻啼鸟"]
    assert all(r["details"] is None for r in results)


@override_settings(MAX_BATCH_FILES=2)
def test_too_many_files():
    files = [upload(f"{n}.png", b"x") for n in range(3)]
    response = APIClient().post(URL, {"files": files}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == "TOO_MANY_FILES"


def test_no_files():
    response = APIClient().post(URL, {"lang": "ch"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_PARAMETER"
