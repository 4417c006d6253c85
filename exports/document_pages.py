"""A task's results as document pages (documents/) for the PDF, hOCR and ALTO exports: a page per scanned
page in book order (each page of a multi-page PDF or TIFF), with the lines the worker stored, and for the
PDF the scanned image, decoded when its page is written: one file's bytes and one decoded page in memory
at a time.

A page's boxes are in the pixels of its image as recognised; the image is read from the task's folder again
(inside SCAN_ROOTS only) and decoded as the recognition decoded it (EXIF rotation, PDF pages rendered at
PDF_RENDER_DPI). A page whose image is gone or unreadable since the scan keeps its text layer on a blank
page; a page that failed keeps its image without text; a file that failed is one page."""

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from django.conf import settings

from batches.models import BatchTask, OcrResult
from core.errors import ApiError
from core.paths import inside_scan_roots
from documents.pages import A4_INCHES, DocumentPage
from recognition.document_output import document_lines
from recognition.pipeline.decode import iter_pages, sniff_format

logger = logging.getLogger(__name__)


def book_pages(task: BatchTask, results: Iterable[OcrResult], *, with_images: bool) -> Iterator[DocumentPage]:
    """The pages of `results` (rows with their json_data, in book order)."""
    # A page whose size is known neither from its record nor from its image (a file that failed and cannot
    # be read) takes the size of the page before it, most likely that of its neighbours; the first one of
    # a book, an A4 scan.
    size = (round(A4_INCHES[0] * settings.EXPORT_PDF_SCAN_DPI), round(A4_INCHES[1] * settings.EXPORT_PDF_SCAN_DPI))
    for result in results:
        for page in _file_pages(task, result, with_images, size):
            size = (page.width, page.height)
            yield page


def _file_pages(task: BatchTask, result: OcrResult, with_images: bool,
                fallback_size: tuple[int, int]) -> Iterator[DocumentPage]:
    stored = result.json_data or {}
    pages = (stored.get("pages") or [stored]) if result.success else [{}]
    images = _images(task, result) if with_images else iter(())
    for number, page in enumerate(pages, 1):
        image, resolution = next(images, (None, None))
        lines = document_lines(page.get("details")) if result.success else []
        width, height = _size(page, image) or fallback_size
        yield DocumentPage(width=width, height=height, lines=lines, source=result.relative_path,
                           source_page=number if len(pages) > 1 else None, image=image, resolution=resolution)


def _size(page: dict, image: np.ndarray | None) -> tuple[int, int] | None:
    """The page's size in pixels: as stored, else its image's."""
    if page.get("width") and page.get("height"):
        return int(page["width"]), int(page["height"])
    if image is not None:
        return int(image.shape[1]), int(image.shape[0])
    return None


def _images(task: BatchTask, result: OcrResult) -> Iterator[tuple[np.ndarray, float | None]]:
    """The file's pages as RGB arrays, one at a time, with their resolution where the file says it (a PDF's
    pages are rendered at PDF_RENDER_DPI: the searchable PDF keeps their size); none (logged) when the file
    cannot be read or decoded."""
    path = Path(task.source_directory) / result.relative_path
    try:
        real = path.resolve(strict=True)
        if not inside_scan_roots(real):
            logger.warning("export of task %s: %s is outside SCAN_ROOTS, page without image", task.task_id, path)
            return
        data = real.read_bytes()
        resolution = settings.PDF_RENDER_DPI if sniff_format(data[:2048]) == "PDF" else None
        for image in iter_pages(data):
            yield image, resolution
    except (OSError, ApiError) as error:
        logger.warning("export of task %s: image of %s unreadable, page without image: %s", task.task_id,
                       result.relative_path, error)
