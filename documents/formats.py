"""The document formats by name (the `format` of exports, the `response_format` of recognition): file
extension, media type, and the writer, called alike for each."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from .alto import write_alto
from .hocr import write_hocr
from .pages import DocumentPage
from .pdf import PdfOptions, write_pdf


@dataclass(frozen=True)
class DocumentFormat:
    name: str
    extension: str
    media_type: str
    binary: bool  # written to a binary handle; the others to a UTF-8 text handle
    writer: Callable[..., int]


FORMATS = {
    "pdf": DocumentFormat("pdf", "pdf", "application/pdf", True, write_pdf),
    "hocr": DocumentFormat("hocr", "hocr", "application/xhtml+xml", False, write_hocr),
    "alto": DocumentFormat("alto", "alto.xml", "application/xml", False, write_alto),
}


def write_document(name: str, pages: Iterable[DocumentPage], handle: IO, *, title: str = "") -> int:
    """Writes the pages in format `name` to `handle` (binary for the PDF, text otherwise); returns how many
    pages were written. The PDF's image size and quality come from the settings (PdfOptions)."""
    document = FORMATS[name]
    if name == "pdf":
        return document.writer(pages, handle, title=title, options=PdfOptions.from_settings())
    return document.writer(pages, handle, title=title)
