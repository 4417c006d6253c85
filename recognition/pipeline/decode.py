"""Turns uploaded bytes into RGB pages for the engines, refusing what is not a supported, sane image.

The type is decided by the content (magic bytes), never by the file name. Limits: MAX_IMAGE_PIXELS per
page, checked from the header before any pixel is decoded (decompression bombs), and MAX_PAGES_PER_FILE.
"""

import io
import warnings
from collections.abc import Iterator

import numpy as np
from django.conf import settings
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from .. import errors

# Our own pixel check runs first; Pillow's bomb guard stays as a second line, never as the only one.
Image.MAX_IMAGE_PIXELS = None

SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


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


def check_pixels(width: int, height: int) -> None:
    if width * height > settings.MAX_IMAGE_PIXELS:
        raise errors.ImageTooLarge(
            f"图片像素 {width}×{height} 超过上限 {settings.MAX_IMAGE_PIXELS} 像素",
            width=width, height=height, max_pixels=settings.MAX_IMAGE_PIXELS,
        )


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


def raster_pages(data: bytes) -> Iterator[np.ndarray]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = getattr(image, "n_frames", 1)
            if frames > settings.MAX_PAGES_PER_FILE:
                raise errors.TooManyPages(f"文件有 {frames} 页，超过上限 {settings.MAX_PAGES_PER_FILE} 页")
            for frame in ImageSequence.Iterator(image):
                check_pixels(*frame.size)
                frame.load()
                yield to_rgb(frame.copy())
    except errors.ApiError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise errors.CorruptImage(f"图片已损坏或无法解码：{error}") from error


def pdf_pages(data: bytes) -> Iterator[np.ndarray]:
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
        for page in document:
            width_pt, height_pt = page.get_size()
            scale = settings.PDF_RENDER_DPI / 72
            # A huge page is rendered smaller rather than refused: its text is still there to read.
            pixels = width_pt * height_pt * scale * scale
            if pixels > settings.MAX_IMAGE_PIXELS:
                scale *= (settings.MAX_IMAGE_PIXELS / pixels) ** 0.5
            try:
                bitmap = page.render(scale=scale)
            except pdfium.PdfiumError as error:
                raise errors.CorruptImage(f"PDF 页面无法渲染：{error}") from error
            yield to_rgb(bitmap.to_pil())
    finally:
        document.close()


def iter_pages(data: bytes) -> Iterator[np.ndarray]:
    """Every page of an upload as an RGB uint8 array, decoded one at a time so that a long PDF never sits
    in memory whole; raises errors.ApiError subclasses for bad input."""
    if not data:
        raise errors.EmptyFile()
    kind = sniff_format(data)
    if kind is None:
        raise errors.UnsupportedFormat()
    return pdf_pages(data) if kind == "PDF" else raster_pages(data)
