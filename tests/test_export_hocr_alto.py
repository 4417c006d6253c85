"""hOCR and ALTO 4 exports (format=hocr, format=alto): one file per book with a page per scanned page (each page
of a multi-page TIFF), lines in reading order (vertical columns right to left) with their words, boxes and
confidence, parsed back with a real XML parser (ElementTree); offered by the API, the download, the `export`
command and the task page; the formats are in the OpenAPI schema."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from batches.models import OcrResult
from batches.serializers import EXPORT_FORMATS
from documents.hocr import write_hocr
from documents.pages import DocumentLine, DocumentPage
from exports.models import Export, ExportFormat
from tests.batch_support import book_dir  # noqa: F401 (fixture)
from tests.document_support import BOOK_PAGES, COLUMNS, HORIZONTAL, image_size, read_book

pytestmark = pytest.mark.django_db

XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"


def title_properties(element) -> dict[str, str]:
    """hOCR's title attribute: `name value; name value`."""
    return dict(part.strip().split(" ", 1) for part in element.get("title").split(";"))


def numbers(text: str) -> list[int]:
    return [int(value) for value in text.split()]


def hocr_pages(root) -> list:
    return [div for div in root.iter(f"{XHTML}div") if div.get("class") == "ocr_page"]


def by_class(element, name: str) -> list:
    return [span for span in element.iter(f"{XHTML}span") if span.get("class") == name]


def contains(outer, inner) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def test_hocr_and_alto_of_a_book_hold_its_pages_lines_and_words_in_reading_order(book_dir):
    task = read_book(book_dir)
    rows = {row.relative_path: row for row in OcrResult.objects.filter(task=task)}
    assert rows["卷一/002.png"].raw_text == "\n".join(COLUMNS)
    client = APIClient()
    files = {}
    for fmt in ("hocr", "alto"):
        body = client.post("/api/ocr/batch/export", {"taskId": task.task_id, "format": fmt}, format="json").json()
        assert body["success"] and body["total_pages"] == len(BOOK_PAGES), body
        files[fmt] = (settings.EXPORT_DIR / body["file_path"]).read_bytes()
    assert body["file_path"].endswith(".alto.xml")

    # hOCR: XHTML, an ocr_page per scanned page in book order, naming its image, its size and its place.
    root = ET.fromstring(files["hocr"])
    assert root.tag == f"{XHTML}html" and root.find(f"{XHTML}head/{XHTML}title").text == "李氏族谱"
    pages = hocr_pages(root)
    assert [title_properties(page)["image"].strip('"') for page in pages] == [path for path, _, _ in BOOK_PAGES]
    assert [title_properties(page).get("x_source_page") for page in pages] == [
        None if number is None else str(number) for _, number, _ in BOOK_PAGES]
    assert [title_properties(page)["ppageno"] for page in pages] == [str(n) for n in range(len(BOOK_PAGES))]
    assert numbers(title_properties(pages[1])["bbox"]) == [0, 0, *image_size(book_dir / "卷一" / "002.png")]
    for page, (_, _, lines) in zip(pages, BOOK_PAGES):
        assert ["".join(word.text for word in by_class(line, "ocrx_word")) for line in by_class(page, "ocr_line")] \
            == [line.replace(" ", "") for line in lines]
    # Words: Latin words apart, each inside its line's box, with the line's confidence in percent.
    latin = by_class(pages[0], "ocr_line")[1]
    assert [word.text for word in by_class(latin, "ocrx_word")] == HORIZONTAL[1].split()
    assert "".join(latin.itertext()) == HORIZONTAL[1]
    for line in by_class(root, "ocr_line"):
        line_box = numbers(title_properties(line)["bbox"])
        for word in by_class(line, "ocrx_word"):
            properties = title_properties(word)
            assert contains(line_box, numbers(properties["bbox"])) and 50 <= int(properties["x_wconf"]) <= 100
    # The vertical page: columns, right to left.
    columns = [numbers(title_properties(line)["bbox"]) for line in by_class(pages[1], "ocr_line")]
    assert all(bottom - top > 2 * (right - left) for left, top, right, bottom in columns)
    assert [box[0] for box in columns] == sorted((box[0] for box in columns), reverse=True)

    # ALTO 4: a Page per scanned page, TextLines of Strings in reading order, positions and confidence.
    root = ET.fromstring(files["alto"])
    assert root.tag == f"{ALTO}alto" and root.find(f"{ALTO}Description/{ALTO}MeasurementUnit").text == "pixel"
    pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [page.get("PHYSICAL_IMG_NR") for page in pages] == [str(n) for n in range(1, len(BOOK_PAGES) + 1)]
    assert (int(pages[1].get("WIDTH")), int(pages[1].get("HEIGHT"))) == image_size(book_dir / "卷一" / "002.png")
    for page, (_, _, lines) in zip(pages, BOOK_PAGES):
        text_lines = list(page.iter(f"{ALTO}TextLine"))
        assert [" ".join(s.get("CONTENT") for s in line.iter(f"{ALTO}String")) for line in text_lines] == lines
        for line in text_lines:
            line_box = [int(line.get(key)) for key in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
            for string in line.iter(f"{ALTO}String"):
                left, top, width, height = (int(string.get(key)) for key in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
                assert contains((line_box[0], line_box[1], line_box[0] + line_box[2], line_box[1] + line_box[3]),
                                (left, top, left + width, top + height))
                assert 0.5 <= float(string.get("WC")) <= 1
    latin = list(pages[0].iter(f"{ALTO}TextLine"))[1]
    assert [child.tag for child in latin] == [f"{ALTO}String", f"{ALTO}SP", f"{ALTO}String", f"{ALTO}SP", f"{ALTO}String"]
    hpos = [int(line.get("HPOS")) for line in pages[1].iter(f"{ALTO}TextLine")]
    assert hpos == sorted(hpos, reverse=True)  # the columns, right to left

    # The same files through the download and the command.
    download = client.get(f"/api/ocr/batch/download/{task.task_id}?format=alto")
    assert download["Content-Type"] == "application/xml; charset=utf-8" and b"".join(download.streaming_content) == files["alto"]
    assert '.alto.xml"' in download["Content-Disposition"]
    hocr_download = client.get(f"/api/ocr/batch/download/{task.task_id}?format=hocr")
    assert hocr_download["Content-Type"] == "application/xhtml+xml; charset=utf-8"
    output = book_dir / "book.hocr"
    call_command("export", task.task_id, "--format", "hocr", "--output", str(output), stdout=io.StringIO())
    assert hocr_pages(ET.parse(output).getroot())[1].get("title") == hocr_pages(ET.fromstring(files["hocr"]))[1].get("title")


def test_markup_text_stays_well_formed_xml():
    # Control characters cannot be in XML 1.0 at all; markup characters are escaped.
    page = DocumentPage(width=300, height=100, source='卷"一/<1>.png', lines=[
        DocumentLine("a<b>&\x07c \"d\"", (10, 10, 290, 40), 0.876)])
    output = io.StringIO()
    assert write_hocr([page], output, title="<李&氏>") == 1
    root = ET.fromstring(output.getvalue())
    assert root.find(f"{XHTML}head/{XHTML}title").text == "<李&氏>"
    assert [word.text for word in by_class(root, "ocrx_word")] == ["a<b>&c", '"d"']
    assert title_properties(by_class(root, "ocrx_word")[0])["x_wconf"] == "88"
    assert title_properties(hocr_pages(root)[0])["image"] == '"卷一/<1>.png"'


def enum_of(schema: dict, field: dict) -> list:
    """A field's allowed values in the OpenAPI schema, where drf-spectacular names them as a component."""
    for part in [field, *field.get("allOf", [])]:
        if "enum" in part:
            return part["enum"]
        if "$ref" in part:
            return enum_of(schema, schema["components"]["schemas"][part["$ref"].rsplit("/", 1)[1]])
    raise AssertionError(f"no enum in {field}")


def test_export_formats_are_documented_and_offered(client, django_user_model, book_dir):
    # The API's docs list every format the exports accept; the task page links the document downloads.
    assert EXPORT_FORMATS == list(ExportFormat.values)
    schema = APIClient().get("/openapi.json").json()
    export_ref = schema["paths"]["/api/ocr/batch/export"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["$ref"].rsplit("/", 1)[1]
    assert enum_of(schema, schema["components"]["schemas"][export_ref]["properties"]["format"]) == list(ExportFormat.values)
    download = schema["paths"]["/api/ocr/batch/download/{task_id}"]["get"]
    parameter = next(p for p in download["parameters"] if p["name"] == "format")
    assert sorted(enum_of(schema, parameter["schema"])) == sorted(ExportFormat.values)
    assert {"application/pdf", "application/xhtml+xml", "application/xml"} <= set(download["responses"]["200"]["content"])
    bad = APIClient().post("/api/ocr/batch/export", {"task_id": "x", "format": "docx"}, format="json").json()
    assert bad["error"] == "INVALID_PARAMETER" and bad["allowed"] == list(ExportFormat.values)

    from batches import services

    (book_dir / "001.png").write_bytes(b"not an image")
    task = services.task_create(book_id="页面", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
    services.task_run_inline(task_id=task.task_id)
    client.force_login(django_user_model.objects.create_user("operator", password="pw-12345678", is_staff=True))
    html = client.get(f"/batch/tasks/{task.task_id}").content.decode()
    for fmt in ("pdf", "hocr", "alto"):
        assert re.search(rf'href="/batch/tasks/{task.task_id}/download\?format={fmt}"', html), fmt
    assert "下载 可检索 PDF" in html
    response = client.get(f"/batch/tasks/{task.task_id}/download?format=alto")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"<?xml")
    assert Export.objects.filter(task=task, export_format="alto").count() == 1
