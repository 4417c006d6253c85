"""POST /api/ocr/recognize with `response_format` (or `responseFormat`): the answer is the upload as a searchable
PDF, an hOCR or an ALTO file instead of JSON, read by the engine and opened with real readers (pdfium, pypdf,
ElementTree); an unknown value is a 400 naming the field; the schema documents the field and the files."""

import io
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pypdf
import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.document_support import COLUMNS, HORIZONTAL, TIFF_PAGES
from tests.pages import encode, render_lines, render_vertical_rl

URL = "/api/ocr/recognize"
XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"


@pytest.fixture(scope="module")
def client():
    return APIClient()


def post(client, name: str, data: bytes, **fields):
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **fields}, format="multipart")


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def test_recognize_answers_with_a_searchable_pdf_of_a_vertical_page(client):
    image = render_vertical_rl(COLUMNS, size=36, margin=40)
    # return_details=false does not matter: the boxes are the document's.
    response = post(client, "李氏族谱.png", encode(image), response_format="pdf", return_details="false")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment") and ".pdf" in response["Content-Disposition"]
    data = body_of(response)
    page = pdfium.PdfDocument(data)[0]
    textpage = page.get_textpage()
    assert textpage.get_text_range().replace("\r\n", "\n") == "\n".join(COLUMNS)  # right to left
    assert pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().replace("\n", "") == "".join(COLUMNS)
    # Down each column, columns right to left: the first character of each column lies left of the one before.
    starts, index = [], 0
    for column in COLUMNS:
        starts.append(textpage.get_charbox(index)[0])
        index += len(column) + 2  # the reader's line break between columns
    assert starts == sorted(starts, reverse=True)
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages[0].images) == 1
    width, height = page.get_size()
    assert (width, height) == pytest.approx((image.width * 72 / 300, image.height * 72 / 300))


def test_a_recognised_pdf_keeps_its_page_size_and_text(client):
    buffer = io.BytesIO()
    render_lines(HORIZONTAL, size=40, margin=40).save(buffer, "PDF", resolution=144)  # pages of points
    source = pdfium.PdfDocument(buffer.getvalue())[0].get_size()
    response = post(client, "scan.pdf", buffer.getvalue(), response_format="pdf")
    assert response.status_code == 200
    page = pdfium.PdfDocument(body_of(response))[0]
    assert page.get_size() == pytest.approx(source, abs=0.5)  # rendered at PDF_RENDER_DPI and back
    assert page.get_textpage().get_text_range().replace("\r\n", "\n") == "\n".join(HORIZONTAL)


def test_recognize_answers_with_hocr_and_alto(client):
    response = post(client, "page.png", encode(render_lines(HORIZONTAL, size=30, margin=30)), responseFormat="hocr")
    assert response.status_code == 200 and response["Content-Type"] == "application/xhtml+xml; charset=utf-8"
    root = ET.fromstring(body_of(response))
    lines = [span for span in root.iter(f"{XHTML}span") if span.get("class") == "ocr_line"]
    assert ["".join(line.itertext()) for line in lines] == HORIZONTAL

    first, second = (render_lines(lines, size=30, margin=30) for lines in TIFF_PAGES)
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[second])
    response = post(client, "卷二.tif", buffer.getvalue(), response_format="ALTO")
    assert response.status_code == 200 and "卷二.alto.xml" in unquote(response["Content-Disposition"])
    root = ET.fromstring(body_of(response))
    pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [page.get("PHYSICAL_IMG_NR") for page in pages] == ["1", "2"]
    assert [[s.get("CONTENT") for s in page.iter(f"{ALTO}String")] for page in pages] == TIFF_PAGES
    assert (int(pages[0].get("WIDTH")), int(pages[0].get("HEIGHT"))) == first.size


def test_unknown_response_format_is_refused_before_recognition(client):
    data = encode(render_lines(["李"], size=30, margin=30))
    response = post(client, "page.png", data, response_format="docx")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "INVALID_PARAMETER" and body["field"] == "response_format"
    assert body["allowed"] == ["json", "pdf", "hocr", "alto"]
    both = post(client, "page.png", data, response_format="pdf", responseFormat="hocr")
    assert both.status_code == 400 and both.json()["error"] == "INVALID_PARAMETER"


def test_response_format_is_documented(client):
    schema = client.get("/openapi.json").json()
    recognize = schema["paths"][URL]["post"]
    ref = recognize["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    field = schema["components"]["schemas"][ref]["properties"]["response_format"]
    values = field.get("enum") or schema["components"]["schemas"][field["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert values == ["json", "pdf", "hocr", "alto"]
    assert {"application/json", "application/pdf", "application/xhtml+xml", "application/xml"} <= \
        set(recognize["responses"]["200"]["content"])
