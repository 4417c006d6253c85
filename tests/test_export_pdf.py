"""Searchable PDF exports (format=pdf): a book read by the engine, exported through the API, the download and
the `export` command, and opened with two real PDF readers, pdfium (Chrome's) and pypdf: the text of each
page comes out in reading order, vertical columns right to left, characters beyond the BMP included; each
character sits in its cell of the recognised box; the text layer is invisible over the page image; image
size and quality follow the settings; memory stays bounded for a 3,000-page book."""

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2 as pdfium
import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from batches import services
from batches.models import OcrResult
from documents.glyphless_font import glyphless_font
from documents.pages import DocumentLine, DocumentPage
from documents.pdf import write_pdf
from exports.models import Export
from exports.services import export_create
from tests.batch_support import ROOT, book_dir, child_env  # noqa: F401 (fixture)
from tests.document_support import BOOK_PAGES, COLUMNS, HORIZONTAL, TIFF_PAGES, image_size, read_book
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db


def pdfium_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    return [page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document]


def pypdf_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def char_boxes(data: bytes, page_index: int) -> list[tuple[str, tuple[float, ...]]]:
    """(character, (left, bottom, right, top) in points) of each character pdfium finds on the page."""
    textpage = pdfium.PdfDocument(data)[page_index].get_textpage()
    text = textpage.get_text_range()
    return [(text[index], textpage.get_charbox(index)) for index in range(textpage.count_chars())
            if not text[index].isspace()]


def in_points(box, page_height_px: int, scale: float) -> tuple[float, float, float, float]:
    """A box of the API ([[x, y] * 4], pixels from the top left) as (left, bottom, right, top) in points."""
    xs, ys = [x for x, _ in box], [y for _, y in box]
    return (min(xs) * scale, (page_height_px - max(ys)) * scale, max(xs) * scale, (page_height_px - min(ys)) * scale)


def inside(inner, outer, slack: float = 0.5) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def test_searchable_pdf_of_a_book_reads_in_book_and_reading_order(book_dir):
    task = read_book(book_dir)
    results = {r.relative_path: r for r in OcrResult.objects.filter(task=task)}
    # What the engine read is what the pages say, in reading order (the PDF must give back exactly that).
    assert results["卷一/001.png"].raw_text == "\n".join(HORIZONTAL)
    assert results["卷一/002.png"].raw_text == "\n".join(COLUMNS)
    assert results["卷二/001.tif"].raw_text == "\n\n".join("\n".join(lines) for lines in TIFF_PAGES)

    client = APIClient()
    body = client.post("/api/ocr/batch/export", {"task_id": task.task_id, "format": "pdf"}, format="json").json()
    assert body["success"] and body["format"] == "pdf" and body["file_path"].endswith(".pdf")
    assert body["total_pages"] == len(BOOK_PAGES) and body["download_url"].endswith("format=pdf")
    data = (settings.EXPORT_DIR / body["file_path"]).read_bytes()
    assert data.startswith(b"%PDF-") and len(data) == body["file_size"]

    # Two readers, the same text in book order: a page per scanned page (each page of the TIFF), the failed
    # page empty; pdfium breaks lines (and columns) as a reader copies them, pypdf runs columns together.
    expected = ["\n".join(lines) for _, _, lines in BOOK_PAGES]
    assert pdfium_texts(data) == expected
    assert [text.replace("\n", "") for text in pypdf_texts(data)] == [text.replace("\n", "") for text in expected]
    assert pdfium.PdfDocument(data)[0].get_textpage().search("族谱").get_next() is not None  # a reader's search

    # Each character sits in its cell of the recognised box: down each column, the columns right to left.
    scale = 72 / settings.EXPORT_PDF_SCAN_DPI
    vertical = results["卷一/002.png"]
    height = vertical.json_data["height"]
    boxes = char_boxes(data, 1)
    assert "".join(character for character, _ in boxes) == "".join(COLUMNS)
    start = 0
    for detail in vertical.json_data["details"]:
        column = boxes[start:start + len(detail["text"])]
        start += len(detail["text"])
        recognised = in_points(detail["box"], height, scale)
        assert all(inside(box, recognised) for _, box in column), (detail, column)
        tops = [box[3] for _, box in column]
        assert tops == sorted(tops, reverse=True)  # top to bottom
    lefts = [in_points(detail["box"], height, scale)[0] for detail in vertical.json_data["details"]]
    assert lefts == sorted(lefts, reverse=True)  # right to left
    horizontal = results["卷一/001.png"]
    boxes = char_boxes(data, 0)
    first_line = horizontal.json_data["details"][0]
    recognised = in_points(first_line["box"], horizontal.json_data["height"], scale)
    assert all(inside(box, recognised) for _, box in boxes[:len(first_line["text"])])

    # The scans are the pages (at most EXPORT_PDF_DPI), the text layer is invisible over them: page size
    # from EXPORT_PDF_SCAN_DPI, and the page renders as its image does.
    reader = pypdf.PdfReader(io.BytesIO(data))
    width_px, height_px = image_size(book_dir / "卷一" / "002.png")
    page = reader.pages[1]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((width_px * scale, height_px * scale))
    assert len(page.images) == 1 and len(reader.pages[2].images) == 0  # the failed page has no image to show
    rendered = np.asarray(pdfium.PdfDocument(data)[1].render(scale=settings.EXPORT_PDF_SCAN_DPI / 72).to_pil().convert("L"))
    assert abs(rendered.shape[0] - height_px) <= 1 and abs(rendered.shape[1] - width_px) <= 1  # rounded up
    assert rendered.min() < 60 and rendered.max() > 200

    # The download streams the newest PDF under the book's name; the command writes one too.
    download = client.get(f"/api/ocr/batch/download/{task.task_id}?format=pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["X-Export-Id"] == body["export_id"] and ".pdf" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == data


def test_pdf_keeps_characters_beyond_the_bmp_and_is_invisible():
    # Names keep their rare characters: plane 2 (𠀀 U+20000, 𤴓 U+24D13) and plane 1 (𝐀 U+1D400), in a column
    # and in a line.
    page = DocumentPage(width=400, height=500, lines=[
        DocumentLine("始祖𠀀公", (320, 40, 360, 200), 0.9, vertical=True),
        DocumentLine("𤴓公之子", (240, 40, 280, 200), 0.8, vertical=True),
        DocumentLine("𝐀 𤴓氏", (40, 300, 200, 340), 0.95),
    ], image=np.full((500, 400, 3), 255, dtype=np.uint8))
    output = io.BytesIO()
    assert write_pdf([page], output, title="李𠀀") == 1
    data = output.getvalue()
    assert pdfium_texts(data) == ["始祖𠀀公\n𤴓公之子\n𝐀 𤴓氏"]
    assert pypdf_texts(data)[0].replace("\n", "") == "始祖𠀀公𤴓公之子𝐀 𤴓氏"
    assert pypdf.PdfReader(io.BytesIO(data)).metadata.title == "李𠀀"
    # Nothing of the text layer is painted: the page renders as its white image.
    assert np.asarray(pdfium.PdfDocument(data)[0].render(scale=1).to_pil().convert("L")).min() == 255


def test_glyphless_font_maps_planes_0_to_2_to_one_full_cell_glyph():
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(glyphless_font()))
    cmap = font.getBestCmap()
    assert {cmap.get(code) for code in (ord("李"), 0x20, 0x1D400, 0x20000, 0x24D13, 0x2FFFF)} == {"cell"}
    subtables = {(table.format, table.platformID, table.platEncID) for table in font["cmap"].tables}
    assert {(4, 3, 1), (13, 3, 10)} <= subtables  # planes 0–2 in the 32-bit one
    units = font["head"].unitsPerEm
    assert font["hmtx"]["cell"][0] == units and font["vmtx"]["cell"][0] == units  # one em across, one em down
    glyph = font["glyf"]["cell"]
    assert (glyph.xMax - glyph.xMin, glyph.yMax - glyph.yMin) == (units, units)  # the cell, for readers to measure
    assert len(glyphless_font()) < 2048


def write_scan(folder: Path, name: str, lines: list[str], size: int = 30) -> Path:
    path = folder / name
    path.write_bytes(encode(render_lines(lines, size=size, margin=30)))
    return path


def empty_task(folder: Path, book_id: str):
    """A task over a folder still empty (its pages are then stored by stored_rows)."""
    return services.task_create(book_id=book_id, directory=str(folder), options=services.ScanOptions.from_raw({}),
                                auto_start=False)


def stored_rows(task, paths: list[str], details: list[dict], width: int, height: int) -> None:
    """Rows as the workers store them (details, page size), for the tests that need no engine run."""
    OcrResult.objects.bulk_create([
        OcrResult(task=task, book_id=task.book_id, file_name=Path(path).name, relative_path=path,
                  path_hash=services.path_hash(path), sequence=n, page_number=n + 1, status="success",
                  success=True, raw_text="\n".join(d["text"] for d in details), confidence=0.9,
                  json_data={"details": details, "width": width, "height": height})
        for n, path in enumerate(paths)], batch_size=1000)


def test_pdf_image_resolution_and_quality_follow_the_settings(book_dir, settings):
    task = empty_task(book_dir, "设置")
    width, height = image_size(write_scan(book_dir, "001.png", ["李氏族谱第一卷"] * 8))
    stored_rows(task, ["001.png"], [{"text": "李氏族谱第一卷", "confidence": 0.9,
                                     "box": [[30, 30], [240, 30], [240, 62], [30, 62]]}], width, height)

    def exported(**values) -> pypdf.PdfReader:
        for key, value in values.items():
            setattr(settings, key, value)
        return pypdf.PdfReader(export_create(task=task, export_format="pdf").file_path)

    settings.EXPORT_PDF_SCAN_DPI = 300
    full = exported(EXPORT_PDF_DPI=0, EXPORT_PDF_JPEG_QUALITY=90).pages[0].images[0].image
    assert full.size == (width, height) and full.mode == "L"  # a black-on-white scan is stored grey
    half = exported(EXPORT_PDF_DPI=150).pages[0].images[0].image
    assert half.size == (round(width / 2), round(height / 2))
    small = os.path.getsize(export_create(task=task, export_format="pdf").file_path)
    settings.EXPORT_PDF_JPEG_QUALITY = 20
    assert os.path.getsize(export_create(task=task, export_format="pdf").file_path) < small
    # The page stays the size of the scan whatever the image's resolution, and the text stays on it.
    page = exported(EXPORT_PDF_DPI=72).pages[0]
    assert float(page.mediabox.width) == pytest.approx(width * 72 / 300)
    assert page.extract_text() == "李氏族谱第一卷"


def test_pdf_page_whose_scan_is_gone_keeps_its_text(book_dir):
    task = empty_task(book_dir, "缺图")
    write_scan(book_dir, "001.png", ["始祖德明公"])
    stored_rows(task, ["001.png", "002.png"], [{"text": "始祖德明公", "confidence": 0.9,
                                                "box": [[30, 30], [200, 30], [200, 60], [30, 60]]}], 260, 90)
    output = book_dir / "copy.pdf"
    call_command("export", task.task_id, "--format", "pdf", "--output", str(output), stdout=io.StringIO())
    reader = pypdf.PdfReader(output)
    assert [len(page.images) for page in reader.pages] == [1, 0]
    assert [page.extract_text() for page in reader.pages] == ["始祖德明公", "始祖德明公"]


# Exports a task's PDF in a process of its own and prints that process's peak memory (kB).
PEAK_OF_EXPORT = """
import resource, sys, django
django.setup()
from django.core.management import call_command
call_command("export", sys.argv[1], "--format", "pdf", stdout=sys.stderr)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_peak_kb(task_id: str) -> int:
    # Every image at full resolution: nothing scaled down, the most bytes to let go of.
    result = subprocess.run([sys.executable, "-c", PEAK_OF_EXPORT, task_id], cwd=ROOT, env=child_env(EXPORT_PDF_DPI=0),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the exporting process reads the rows: they must be committed
def test_pdf_of_a_3000_page_book_in_bounded_memory(book_dir):
    # Noise, so that each page's JPEG weighs tens of kilobytes: the pages of a 3,000-page book held at once
    # would take over 100 MB more than those of a 300-page one, where pages written one at a time take the
    # same. Each page is its own file on disk (links to one scan), read and encoded for its page.
    noise = np.random.default_rng(0).integers(0, 256, (256, 256), dtype=np.uint8)
    scan = book_dir / "scan.png"
    scan.write_bytes(encode(Image.fromarray(noise)))
    details = [{"text": "李氏族谱第一卷", "confidence": 0.9,
                "box": [[30, 30 * n], [220, 30 * n], [220, 30 * n + 24], [30, 30 * n + 24]]} for n in range(1, 4)]
    peaks = {}
    for pages in (300, 3000):
        folder = book_dir / str(pages)
        folder.mkdir()
        task = empty_task(folder, f"大书{pages}")
        paths = [f"{n:04d}.png" for n in range(pages)]
        for path in paths:
            os.link(scan, folder / path)
        stored_rows(task, paths, details, 256, 256)
        peaks[pages] = export_peak_kb(task.task_id)
        export = Export.objects.get(task=task)
        assert export.total_pages == pages and export.file_size > pages * 30_000
    assert peaks[3000] - peaks[300] < 25_000, peaks  # kB: bounded, not 2,700 pages' worth
    reader = pypdf.PdfReader(export.file_path)
    assert len(reader.pages) == 3000 and reader.pages[2999].extract_text() == "\n".join(["李氏族谱第一卷"] * 3)
