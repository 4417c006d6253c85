"""Builders of hostile inputs for tests/test_hostile_corpus.py: broken files of every accepted format,
decompression bombs (huge dimensions in a small file), PDF page-size and page-count bombs, an encrypted PDF,
a 500-frame TIFF, and raw multipart bodies (names that are not UTF-8). Everything is built in memory, small."""

import io
import struct
import uuid
import zlib

from PIL import Image

from tests.pages import render_lines

FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF", "PDF")


def page_image(lines=("李氏族谱 卷一", "Hello 2024"), size: int = 28) -> Image.Image:
    return render_lines(list(lines), size=size, margin=20).convert("RGB")


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"resolution": 100.0} if fmt == "PDF" else {}))
    return buffer.getvalue()


def good(fmt: str) -> bytes:
    """A small readable page in `fmt`."""
    return encode(page_image(), fmt)


def truncated(data: bytes) -> bytes:
    """The first 40 % of a file: the header is there, most of the content is not."""
    return data[: max(16, len(data) * 2 // 5)]


def header_only(data: bytes) -> bytes:
    return data[:24]


def corrupted(data: bytes) -> bytes:
    """The header kept, everything after it replaced by a repeating non-image pattern of the same length."""
    keep = 32
    pattern = b"\x00\xffcorrupt\xde\xad\xbe\xef"
    body = (pattern * (len(data) // len(pattern) + 1))[: len(data) - keep]
    return data[:keep] + body


# --- Bombs: a header that promises a huge image, in a few kilobytes --------------------------------------

def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A 1-bit grayscale PNG of width x height whose IDAT holds a few rows of zeros, zlib-compressed."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = (b"\x00" + b"\x00" * ((width + 7) // 8)) * 64
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows, 9))
            + _png_chunk(b"IEND", b""))


def jpeg_bomb(width: int = 65_000, height: int = 65_000) -> bytes:
    """A real small JPEG whose frame header (SOF0) is patched to width x height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), "white"), "JPEG"))
    index = data.find(b"\xff\xc0")
    assert index > 0
    struct.pack_into(">HH", data, index + 5, height, width)
    return bytes(data)


def bmp_bomb(width: int = 40_000, height: int = 40_000) -> bytes:
    """A 1-bit BMP header for width x height followed by a few kilobytes of pixels (the rest missing)."""
    row = ((width + 31) // 32) * 4
    pixels = b"\x00" * 4096
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"
    offset = 14 + 40 + len(palette)
    size = offset + row * height
    return (b"BM" + struct.pack("<IHHI", size & 0xFFFFFFFF, 0, 0, offset)
            + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 1, 0, row * height & 0xFFFFFFFF, 2835, 2835, 2, 0)
            + palette + pixels)


def tiff_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A little-endian baseline TIFF whose tags say width x height, 8-bit gray, one strip of a few bytes."""
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 0), (277, 3, 1, 1), (278, 4, 1, height), (279, 4, 1, 64)]
    ifd_offset = 8
    strip_offset = ifd_offset + 2 + len(entries) * 12 + 4
    entries = [(tag, kind, count, strip_offset if tag == 273 else value) for tag, kind, count, value in entries]
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value) if kind == 4 else \
            struct.pack("<HHIHH", tag, kind, count, value, 0)
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + struct.pack("<I", 0) + b"\x00" * 64


def webp_bomb(width: int = 16_383, height: int = 16_383) -> bytes:
    """A small lossless WebP whose VP8L header is patched to width x height (the largest WebP allows)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(buffer, format="WEBP", lossless=True)
    data = bytearray(buffer.getvalue())
    index = data.find(b"VP8L")
    assert index > 0
    # VP8L: 4-byte chunk size, signature 0x2f, then 14 bits width-1, 14 bits height-1, alpha bit, version.
    bits = (width - 1) | ((height - 1) << 14)
    old = struct.unpack_from("<I", data, index + 9)[0]
    struct.pack_into("<I", data, index + 9, (old & ~0x0FFFFFFF) | bits)
    return bytes(data)


def tiff_frames(count: int = 500) -> bytes:
    """A multi-page TIFF of `count` tiny frames."""
    frames = [Image.new("L", (8, 8), 255) for _ in range(count)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


# --- PDFs written by hand -----------------------------------------------------------------------------------

def pdf_document(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF of `objects` (object 1 is the catalog) with a correct cross-reference table."""
    pdf, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra,
                                                                               xref)
    return bytes(pdf)


def pdf_pages(count: int, side_pt: float = 200) -> bytes:
    """`count` empty pages of side_pt x side_pt points (a page-size bomb at 14400 pt, the PDF maximum)."""
    kids = b" ".join(b"%d 0 R" % (3 + n) for n in range(count))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count)]
    box = b"%g" % side_pt
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] >>" % (box, box)] * count
    return pdf_document(objects)


def encrypted_pdf() -> bytes:
    """A one-page PDF behind the Standard security handler whose password is not empty."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
               b"<< /Filter /Standard /V 1 /R 2 /O <" + b"41" * 32 + b"> /U <" + b"42" * 32 + b"> /P -4 >>"]
    return pdf_document(objects, trailer_extra=b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (b"00" * 16, b"00" * 16))


# --- Raw multipart ------------------------------------------------------------------------------------------

def multipart(parts: list[tuple[str, bytes | str, bytes | None]], fields: dict | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body of (field, file name as raw bytes or str, content) parts and plain fields;
    the file name goes on the wire exactly as given (so it may be invalid UTF-8)."""
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    for name, value in (fields or {}).items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for field, file_name, content in parts:
        raw_name = file_name if isinstance(file_name, bytes) else file_name.encode("utf-8")
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode()
                   + raw_name + b'"\r\nContent-Type: application/octet-stream\r\n\r\n')
        body.write((content or b"") + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"
