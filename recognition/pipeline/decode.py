"""Turns uploaded bytes into RGB pages for the engines, refusing what is not a supported, sane image.

The type is decided by the content (magic bytes), never by the file name. Limits: MAX_IMAGE_PIXELS per
image page, checked from the header before any pixel is decoded (decompression bombs); PDF pages rendered
within PDF_MAX_PAGE_PIXELS; MAX_PAGES_PER_FILE. page_sizes() tells the pixels of every page without
decoding or rendering any, for the budget of a whole request (MAX_REQUEST_PIXELS, recognition/services.py).
"""

import io
import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError, WebPImagePlugin

from .. import errors

# Pillow's own bomb guard at the service's limit, for every Image.open of the process (the dashboard's
# page previews too); raster_pages turns its refusal into IMAGE_TOO_LARGE with the image's size.
Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS


@receiver(setting_changed)
def _follow_max_image_pixels(setting, value, **kwargs):
    # override_settings(MAX_IMAGE_PIXELS=...) in tests moves Pillow's guard with the service's limit.
    if setting == "MAX_IMAGE_PIXELS":
        Image.MAX_IMAGE_PIXELS = value


SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
RASTER_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


def sniff_format(data: bytes) -> str | None:
    for signature, name in SIGNATURES:
        if data.startswith(signature):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    # PDF readers accept the header anywhere in the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return "PDF"
    return None


def image_too_large(width: int, height: int) -> errors.ImageTooLarge:
    return errors.ImageTooLarge(
        f"图片像素 {width}×{height} 超过上限 {settings.MAX_IMAGE_PIXELS} 像素",
        width=width, height=height, max_pixels=settings.MAX_IMAGE_PIXELS,
    )


def check_pixels(width: int, height: int) -> None:
    if width * height > settings.MAX_IMAGE_PIXELS:
        raise image_too_large(width, height)


def to_rgb(image: Image.Image) -> np.ndarray:
    """An 8-bit RGB array: EXIF rotation applied, transparency flattened (flattening_background), 16-bit
    scaled."""
    image = ImageOps.exif_transpose(image)
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        values = np.asarray(image, dtype=np.float64)
        top = values.max() if values.size else 0
        if top > 255:
            values = values * (255.0 / (65535.0 if top > 4095 else top))
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, flattening_background(np.asarray(rgba)))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"))


def flattening_background(rgba: np.ndarray) -> tuple[int, int, int, int]:
    """White behind dark content, black behind light content (white text on a transparent logo or
    screenshot would vanish on white), judged from the brightness of the opaque pixels, as rapidocr's own
    image loader does."""
    alpha = rgba[..., 3]
    opaque = rgba[..., :3][alpha > 127]
    if opaque.size == 0 or alpha.min() > 127:
        return (255, 255, 255, 255)
    brightness = float((opaque.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())
    return (0, 0, 0, 255) if brightness > 127 else (255, 255, 255, 255)


@contextmanager
def raster_errors():
    """What Pillow raises for a broken file, as CORRUPT_IMAGE; the service's own errors as they are."""
    try:
        yield
    except errors.ApiError:
        raise
    except RASTER_ERRORS as error:
        raise errors.CorruptImage(f"图片已损坏或无法解码：{error}") from error


def refused_size(data: bytes) -> tuple[int, int]:
    """The size of an image Pillow's bomb guard refused inside Image.open, which keeps it to itself: read
    from the header again by the format's reader (the one Image.open used, without the guard). WebP's
    reader runs the guard itself, before its decoder allocates the canvas: its header is read directly."""
    kind = sniff_format(data)
    if kind == "WEBP" and (size := WebPImagePlugin._get_size(data[:30])):
        return size
    reader, _accepts = Image.OPEN[kind]
    return reader(io.BytesIO(data)).size


def open_raster(data: bytes) -> Image.Image:
    """The image with only its header read; IMAGE_TOO_LARGE where Pillow's bomb guard refuses it (a later
    TIFF frame is checked by the caller, check_pixels), TOO_MANY_PAGES. Call inside raster_errors()."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise image_too_large(*refused_size(data)) from error
    frames = getattr(image, "n_frames", 1)
    if frames > settings.MAX_PAGES_PER_FILE:
        raise errors.TooManyPages(f"文件有 {frames} 页，超过上限 {settings.MAX_PAGES_PER_FILE} 页")
    return image


def raster_pages(data: bytes) -> Iterator[np.ndarray]:
    with raster_errors():
        for frame in ImageSequence.Iterator(open_raster(data)):
            check_pixels(*frame.size)
            frame.load()
            yield to_rgb(frame.copy())


# The shorter side, in pixels, below which a PDF page shrunk into its pixel budget has no readable text left.
MIN_RENDERED_SIDE = 16


def pdf_page_render(width_pt: float, height_pt: float) -> tuple[float, tuple[int, int]]:
    """The scale to render a PDF page at and the (width, height) it renders to: PDF_RENDER_DPI, lowered
    for a page that would render above PDF_MAX_PAGE_PIXELS (or MAX_IMAGE_PIXELS). A huge page is rendered
    smaller rather than refused, its text is still there to read; only a page so long and thin that it
    would shrink below MIN_RENDERED_SIDE is refused (IMAGE_TOO_LARGE, its size at PDF_RENDER_DPI)."""
    budget = min(settings.PDF_MAX_PAGE_PIXELS, settings.MAX_IMAGE_PIXELS)
    scale = settings.PDF_RENDER_DPI / 72
    size = math.ceil(width_pt * scale), math.ceil(height_pt * scale)
    if size[0] * size[1] <= budget:
        return scale, size
    # The largest scale whose rendering, each side rounded up by pdfium, stays within the budget:
    # (w·s + 1)(h·s + 1) = budget.
    area, sides = width_pt * height_pt, width_pt + height_pt
    shrunk = (math.sqrt(sides * sides + 4 * area * (budget - 1)) - sides) / (2 * area)
    if min(width_pt, height_pt) * shrunk < MIN_RENDERED_SIDE:
        raise errors.ImageTooLarge(
            f"PDF 页面 {width_pt:g}×{height_pt:g} 点过于细长：缩小到 {budget} 像素以内后短边不足 {MIN_RENDERED_SIDE} 像素，无法识别",
            width=size[0], height=size[1], max_pixels=budget,
        )
    return shrunk, (math.ceil(width_pt * shrunk), math.ceil(height_pt * shrunk))


@contextmanager
def open_pdf(data: bytes):
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise errors.EncryptedPdf() from error
        raise errors.CorruptImage(f"PDF 已损坏或无法解析：{error}") from error
    try:
        if len(document) == 0:
            raise errors.EmptyFile("PDF 没有页面")
        if len(document) > settings.MAX_PAGES_PER_FILE:
            raise errors.TooManyPages(f"PDF 有 {len(document)} 页，超过上限 {settings.MAX_PAGES_PER_FILE} 页")
        yield document
    finally:
        document.close()


def pdf_pages(data: bytes) -> Iterator[np.ndarray]:
    import pypdfium2 as pdfium

    with open_pdf(data) as document:
        for page in document:
            scale, _size = pdf_page_render(*page.get_size())
            try:
                bitmap = page.render(scale=scale)
            except pdfium.PdfiumError as error:
                raise errors.CorruptImage(f"PDF 页面无法渲染：{error}") from error
            yield to_rgb(bitmap.to_pil())


def file_kind(data: bytes) -> str:
    if not data:
        raise errors.EmptyFile()
    kind = sniff_format(data)
    if kind is None:
        raise errors.UnsupportedFormat()
    return kind


def iter_pages(data: bytes) -> Iterator[np.ndarray]:
    """Every page of an upload as an RGB uint8 array, decoded one at a time so that a long PDF never sits
    in memory whole; raises errors.ApiError subclasses for bad input."""
    return pdf_pages(data) if file_kind(data) == "PDF" else raster_pages(data)


def page_sizes(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of every page as iter_pages gives it, from the image headers and the PDF page boxes,
    no page decoded or rendered; the same errors as iter_pages for what it can tell from them."""
    if file_kind(data) == "PDF":
        with open_pdf(data) as document:
            return [pdf_page_render(*document.get_page_size(index))[1] for index in range(len(document))]
    with raster_errors():
        return [frame.size for frame in ImageSequence.Iterator(open_raster(data))]
