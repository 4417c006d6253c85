"""Recognition results as documents (the renderers of documents/): the lines of a result with the direction
each is read in, and the file POST /recognize answers with when `response_format` asks for a PDF, hOCR or
ALTO instead of JSON. The batch exports (exports/document_pages.py) build their pages with document_lines
too, so that a page reads the same in both."""

import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import PurePath

from django.conf import settings
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes

from core.naming import snake_case_keys
from documents.formats import FORMATS, write_document
from documents.pages import DocumentLine, DocumentPage

from .engines import TextLine
from .pipeline.decode import iter_pages, sniff_format
from .pipeline.reading_order import detect_layout, line_direction
from .services import RecognitionOptions, parse_choice, recognize_file

RESPONSE_FORMATS = ("json", *FORMATS)
# The documents as /recognize's answers, for the OpenAPI docs.
DOCUMENT_RESPONSES = {(200, document.media_type): OpenApiTypes.BINARY for document in FORMATS.values()}
# A document response stays in memory up to this size, on disk past it.
SPOOL_BYTES = 8 * 1024 * 1024


def document_lines(details) -> list[DocumentLine]:
    """The API's details of one page (text, confidence, box), in their reading order, each marked vertical
    when it is a column: by its shape, or for a line whose shape does not say (one character, a square box)
    by the page's layout, as the reading order decided it (recognition/pipeline/reading_order.py)."""
    lines = [TextLine(str(detail.get("text") or ""), float(detail.get("confidence") or 0.0),
                      tuple(tuple(point) for point in detail["box"]))
             for detail in details or [] if detail.get("box")]
    page_direction = "vertical" if detect_layout(lines) == "vertical_rl" else "horizontal"
    return [DocumentLine.from_points(line.text, line.box, line.confidence,
                                     vertical=(line_direction(line) or page_direction) == "vertical")
            for line in lines]


def parse_response_format(raw: Mapping) -> str:
    """`response_format` (or `responseFormat`) of a recognition request: json (the default), pdf, hocr or
    alto; another value is INVALID_PARAMETER."""
    value = snake_case_keys({key: raw.get(key) for key in raw}).get("response_format")
    if value is None or (isinstance(value, str) and not value.strip()):
        return "json"
    return parse_choice("response_format", str(value).strip().lower(), RESPONSE_FORMATS)


def result_pages(result: dict, source: str, images: Iterator | None = None,
                 resolution: float | None = None) -> Iterator[DocumentPage]:
    """The pages of one recognised file (a `pages` entry each for a multi-page file), with their images
    taken in turn from `images` when given, of `resolution` pixels per inch when known."""
    pages = result.get("pages") or [result]
    for number, page in enumerate(pages, 1):
        yield DocumentPage(width=int(page.get("width") or 1), height=int(page.get("height") or 1),
                           lines=document_lines(page.get("details")), source=source,
                           source_page=number if len(pages) > 1 else None,
                           image=next(images, None) if images is not None else None, resolution=resolution)


def document_attachment(result: dict, data: bytes, response_format: str, file_name: str) -> FileResponse:
    """The document of one recognised upload, an attachment named after the upload. `result` must carry its
    details (return_details); the PDF's page images are decoded from `data` again, one at a time, as the
    recognition decoded them."""
    document = FORMATS[response_format]
    name = f"{PurePath(file_name or 'page').stem or 'page'}.{document.extension}"
    images = iter_pages(data) if response_format == "pdf" else None
    # A PDF's pages are rendered at PDF_RENDER_DPI: the searchable PDF keeps their size.
    resolution = settings.PDF_RENDER_DPI if sniff_format(data[:2048]) == "PDF" else None
    pages = result_pages(result, file_name, images, resolution)
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    if document.binary:
        write_document(response_format, pages, output, title=file_name or name)
    else:
        text = io.TextIOWrapper(output, encoding="utf-8", newline="")
        write_document(response_format, pages, text, title=file_name or name)
        text.flush()
        text.detach()
    output.seek(0)
    charset = "" if document.binary else "; charset=utf-8"
    return FileResponse(output, as_attachment=True, filename=name, content_type=document.media_type + charset)


def document_response(read: Callable[[], bytes], options: RecognitionOptions, response_format: str,
                      file_name: str) -> FileResponse:
    """POST /recognize answered with a document: the upload recognised (with its details, whatever
    return_details says: the boxes are the document's), then written as `response_format`, an attachment
    named after the upload."""
    result = recognize_file(read, replace(options, return_details=True))
    return document_attachment(result, read(), response_format, file_name)
