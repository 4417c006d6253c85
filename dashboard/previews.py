"""Pages of a file as a browser can show them, in the pixels the engine read them in, so that the stored
boxes fit: one page of a PDF or multi-page TIFF rendered alone (recognition/pipeline/decode.py's own steps:
the same scale for a PDF page, the same EXIF rotation and flattening for an image frame), as PNG for the
page view, or shrunk to a JPEG preview for the single-file page (`/`), whose upload is not kept."""

import base64
import io

import numpy as np
from PIL import Image, ImageSequence

from recognition import errors
from recognition.pipeline import decode

PREVIEW_SIDE = 1600  # longest side of a preview: the boxes and text stay legible; ~150 KB a page
BROWSER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def file_page(data: bytes, number: int) -> np.ndarray:
    """Page `number` (1-based) of the file as iter_pages yields it, decoding or rendering that page only;
    IndexError when the file has no such page."""
    if number < 1:
        raise IndexError(number)
    if decode.file_kind(data) == "PDF":
        import pypdfium2 as pdfium

        with decode.open_pdf(data) as document:
            if number > len(document):
                raise IndexError(number)
            page = document[number - 1]
            scale, _size = decode.pdf_page_render(*page.get_size())
            try:
                bitmap = page.render(scale=scale)
            except pdfium.PdfiumError as error:
                raise errors.CorruptImage(f"PDF 页面无法渲染：{error}") from error
            return decode.to_rgb(bitmap.to_pil())
    with decode.raster_errors():
        image = decode.open_raster(data)
        for index, frame in enumerate(ImageSequence.Iterator(image), 1):
            if index == number:
                decode.check_pixels(*frame.size)
                frame.load()
                return decode.to_rgb(frame.copy())
    raise IndexError(number)


def png_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def preview_data_url(rgb: np.ndarray, side: int = PREVIEW_SIDE) -> str:
    """A JPEG data: URL of the page shrunk to `side` pixels at most (the boxes keep the page's own
    coordinates: the overlay's viewBox is the page's size, stretched over the image)."""
    image = Image.fromarray(rgb)
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
