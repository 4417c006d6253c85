"""`/`: try one image (login, the JSON endpoint the page's script calls, the server-rendered fallback), and
download it as a searchable PDF, hOCR or ALTO file (结果), both without JS (the form posts to `/`) and
from the page's script (the same endpoint, with `response_format`), opened with real readers."""

import io
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pypdf
import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"
LINES = ["李氏族谱第一卷", "Hello PaddleOCR 2024"]
XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("reader", password=PASSWORD)


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def page_png():
    return encode(render_lines(LINES, face="serif"))


@pytest.mark.parametrize("url", ["/", "/batch"])
def test_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_recognize_endpoint_needs_login(client, page_png):
    response = client.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png)})
    assert response.status_code == 302


def test_login_page_logs_in_and_logout_logs_out(client, user):
    page = client.get("/login/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    wrong = client.post("/login/", {"username": "reader", "password": "nope"})
    assert wrong.status_code == 200 and "用户名或密码不正确" in wrong.content.decode()
    response = client.post("/login/", {"username": "reader", "password": PASSWORD, "next": "/batch"})
    assert response.status_code == 302 and response["Location"] == "/batch"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_login_refuses_offsite_next(client, user):
    response = client.post("/login/", {"username": "reader", "password": PASSWORD, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_index_page_shows_form_with_choices(logged_in):
    html = logged_in.get("/").content.decode()
    assert "单张识别" in html
    for value in ("horizontal", "vertical_rl", "vertical_lr", "line_by_line", "column_by_column", "char_by_char"):
        assert f'value="{value}"' in html
    assert 'value="ch"' in html
    assert 'name="response_format"' in html
    for value in ("json", "pdf", "hocr", "alto"):
        assert f'value="{value}"' in html
    assert "/static/dashboard/overlay.js" in html and "/static/dashboard/app.css" in html
    assert "http://" not in html and "https://" not in html  # no CDN


def test_recognize_endpoint_returns_text_details_and_size(logged_in, page_png):
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("page.png", page_png), "lang": "ch",
                                               "text_layout": "horizontal", "output_format": "line_by_line",
                                               "use_angle_cls": "true"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["text"] == "李氏族谱第一卷\nHello PaddleOCR 2024"
    assert [d["text"] for d in body["details"]] == ["李氏族谱第一卷", "Hello PaddleOCR 2024"]
    assert body["width"] > 0 and body["height"] > 0
    assert all(len(d["box"]) == 4 for d in body["details"])


def test_recognize_endpoint_reports_bad_input_as_json(logged_in):
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("x.png", b"not an image at all")})
    assert response.status_code == 415
    assert response.json()["error"] == "UNSUPPORTED_FORMAT"
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("x.png", b"")})
    assert response.status_code == 400 and response.json()["error"] == "EMPTY_FILE"
    response = logged_in.post("/recognize/", {})
    assert response.status_code == 400 and response.json()["success"] is False


def test_recognize_endpoint_refuses_an_oversized_body_before_reading_it(logged_in, settings, monkeypatch):
    from django.http import multipartparser

    def must_not_parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    settings.MAX_UPLOAD_SIZE = 1000
    monkeypatch.setattr(multipartparser.MultiPartParser, "parse", must_not_parse)
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("big.png", b"\x89PNG" + b"\x00" * 200_000)})
    assert response.status_code == 413 and response.json()["error"] == "FILE_TOO_LARGE"


def test_recognize_endpoint_rejects_bad_option(logged_in, page_png):
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png), "text_layout": "diagonal"})
    assert response.status_code == 400 and response.json()["error"] == "INVALID_PARAMETER"


def test_recognize_needs_csrf_token(user, page_png):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png)})
    assert response.status_code == 403


def test_fallback_form_post_renders_text_and_lines(logged_in, page_png):
    response = logged_in.post("/", {"file": SimpleUploadedFile("page.png", page_png), "lang": "ch",
                                    "text_layout": "horizontal", "output_format": "line_by_line"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "李氏族谱第一卷" in html and "Hello PaddleOCR 2024" in html
    assert html.count('<tr class="') >= 2


def test_hostile_file_name_and_text_are_escaped(logged_in, monkeypatch, page_png):
    hostile = "<script>alert(1)</script>"

    def fake_recognize(data, options):
        return {"success": True, "text": hostile, "processing_time": 0.1, "error": None, "width": 10, "height": 10,
                "details": [{"text": hostile, "confidence": 0.5, "low_confidence": True, "box": [[0, 0], [5, 0], [5, 5], [0, 5]]}]}

    monkeypatch.setattr("dashboard.views_recognize.recognize_bytes", fake_recognize)
    response = logged_in.post("/", {"file": SimpleUploadedFile(hostile + ".png", page_png)})
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="low"' in html  # confidence 0.5 is highlighted


def test_unticked_angle_checkbox_means_false(logged_in, monkeypatch, page_png):
    seen = []

    def fake_recognize(data, options):
        seen.append(options)
        return {"success": True, "text": "", "details": [], "processing_time": 0.0, "error": None}

    monkeypatch.setattr("dashboard.views_recognize.recognize_bytes", fake_recognize)
    logged_in.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png), "text_layout": "vertical_rl"})
    logged_in.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png), "use_angle_cls": "true"})
    assert [o.use_angle_cls for o in seen] == [False, True]
    assert seen[0].text_layout == "vertical_rl" and seen[0].return_details is True


# --- 结果: download the recognised image as a document ----------------------------------------------------

def attachment(response, name: str, media_type: str) -> bytes:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == media_type
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and name in unquote(disposition)
    return b"".join(response.streaming_content)


def test_fallback_form_post_downloads_a_searchable_pdf(logged_in, page_png):
    response = logged_in.post("/", {"file": SimpleUploadedFile("族谱.png", page_png), "lang": "ch",
                                    "text_layout": "horizontal", "output_format": "line_by_line",
                                    "response_format": "pdf"})
    data = attachment(response, "族谱.pdf", "application/pdf")
    page = pdfium.PdfDocument(data)[0]
    assert page.get_textpage().get_text_range().replace("\r\n", "\n") == "\n".join(LINES)
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 and len(reader.pages[0].images) == 1  # the image, with its text under it
    assert reader.pages[0].extract_text().splitlines() == LINES


def test_fallback_form_post_downloads_hocr_and_alto(logged_in, page_png):
    fields = {"lang": "ch", "text_layout": "horizontal", "output_format": "line_by_line"}
    response = logged_in.post("/", {"file": SimpleUploadedFile("page.png", page_png), **fields,
                                    "response_format": "hocr"})
    root = ET.fromstring(attachment(response, "page.hocr", "application/xhtml+xml; charset=utf-8"))
    lines = [span for span in root.iter(f"{XHTML}span") if span.get("class") == "ocr_line"]
    assert ["".join(line.itertext()) for line in lines] == LINES

    response = logged_in.post("/", {"file": SimpleUploadedFile("page.png", page_png), **fields,
                                    "response_format": "alto"})
    root = ET.fromstring(attachment(response, "page.alto.xml", "application/xml; charset=utf-8"))
    lines = [" ".join(string.get("CONTENT") for string in line.iter(f"{ALTO}String"))
             for line in root.iter(f"{ALTO}TextLine")]
    assert lines == LINES


def test_recognize_endpoint_answers_with_the_chosen_document(logged_in, page_png):
    """The page's script posts the same form, 结果 included, to recognize/ and saves what comes back."""
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("李氏.png", page_png), "lang": "ch",
                                               "text_layout": "horizontal", "use_angle_cls": "true",
                                               "response_format": "hocr"})
    root = ET.fromstring(attachment(response, "李氏.hocr", "application/xhtml+xml; charset=utf-8"))
    assert "".join(root.itertext()).count("李氏族谱第一卷") == 1


def test_unknown_response_format_is_refused_before_recognition(logged_in, monkeypatch, page_png):
    def must_not_recognize(data, options):
        raise AssertionError("recognised")

    monkeypatch.setattr("dashboard.views_recognize.recognize_bytes", must_not_recognize)
    response = logged_in.post("/recognize/", {"file": SimpleUploadedFile("p.png", page_png),
                                               "response_format": "docx"})
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_PARAMETER" and response.json()["field"] == "response_format"
    response = logged_in.post("/", {"file": SimpleUploadedFile("p.png", page_png), "response_format": "docx"})
    assert response.status_code == 400 and "response_format" in response.content.decode()
    # "json", the form's default, is the page itself.
    assert logged_in.get("/").content.decode().count('value="json" selected') == 1
