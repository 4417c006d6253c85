"""The seed README's single-recognition examples (Python `requests` and curl) run unchanged against a live
server."""

import shutil
import subprocess

import pytest
import requests

from tests.pages import render_lines


@pytest.fixture
def test_jpg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    render_lines(["李氏族谱第一卷", "Hello PaddleOCR 2024"], face="serif").save("test.jpg", quality=92)
    return tmp_path / "test.jpg"


@pytest.mark.django_db(transaction=True)
def test_python_requests_example(live_server, test_jpg):
    # From the seed README, with only the host changed.
    url = live_server.url + "/api/ocr/recognize"
    with open("test.jpg", "rb") as f:
        files = {"file": f}
        data = {"lang": "ch", "use_angle_cls": True}
        response = requests.post(url, files=files, data=data)
        result = response.json()
        print("识别文本:", result["text"])
    assert result["text"] == "李氏族谱第一卷\nHello PaddleOCR 2024"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples(live_server, test_jpg):
    single = subprocess.run(
        ["curl", "-s", "-X", "POST", f"{live_server.url}/api/ocr/recognize",
         "-F", "file=@test.jpg", "-F", "lang=ch", "-F", "use_angle_cls=true"],
        capture_output=True, text=True, check=True,
    )
    assert '"success":true' in single.stdout and "Hello PaddleOCR 2024" in single.stdout
    batch = subprocess.run(
        ["curl", "-s", "-X", "POST", f"{live_server.url}/api/ocr/recognize-batch",
         "-F", "files=@test.jpg", "-F", "files=@test.jpg", "-F", "lang=ch"],
        capture_output=True, text=True, check=True,
    )
    assert batch.stdout.count("李氏族谱第一卷") == 4  # two results, each in text and details
