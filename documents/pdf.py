"""Searchable PDF: each page's image with an invisible text layer on the recognised boxes, so that selecting,
copying and searching in a PDF reader give the recognised text, in reading order.

Written object by object as the pages come, the cross-reference table last: what is held in memory is one
page, the objects' offsets and the book's distinct characters, so a 3,000-page book costs what one page
does. This is why the file is written here rather than by a PDF library: fpdf2, ReportLab, pypdf and
pikepdf all keep the whole document, its images included, in memory until it is saved. What is written is a
small, fixed subset of PDF 1.7, read back in the tests by two independent readers (pdfium and pypdf).

The text layer:
- one glyphless font (glyphless_font.py), embedded once, under two Type0 fonts: /Identity-H for lines,
  /Identity-V (vertical writing) for columns, so that a reader takes a column for one line of text, read
  top to bottom, with each character in its own cell down the column;
- a character's code is a CID given to each distinct character in the order met (two bytes: up to 65,535
  distinct characters in a document, several times what the recognition dictionary holds). The ToUnicode
  CMap maps each CID back to its character (UTF-16, a surrogate pair beyond the BMP, such as 𠀀 or 𤴓):
  that is what copy, search and text extraction read. The CIDToGIDMap sends every CID to the empty glyph;
- each line is one text object whose matrix scales the em to the line's character cell (pages.cells): for a
  line, box width / characters wide and the box's height; for a column, the box's width and box height /
  characters tall. The em box of the font (12% of it below the baseline, the ideographic convention) then
  covers the cell exactly, so a reader's selection highlights the recognised box;
- rendering mode 3 (neither fill nor stroke): the text is there to be found, never seen;
- the lines are written in reading order, which is the order readers copy and extract text in.
"""

import io
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image

from .glyphless_font import ASCENT, CELL_GLYPH_ID, DESCENT, FAMILY, UNITS_PER_EM, glyphless_font
from .pages import A4_INCHES, DocumentLine, DocumentPage

POINTS_PER_INCH = 72
MAX_CID = 0xFFFF
# Where a character past the 65,535th distinct one goes (never in practice: see above).
OVERFLOW_CHARACTER = "\ufffd"
# A line's cell is never thinner than this many points: a degenerate matrix would make readers skip it.
MIN_CELL = 0.01
# pdfium (Chrome's reader) takes consecutive text objects that start level with each other for pieces of one
# line and sorts them left to right, which would read right-to-left columns backwards. Its tolerance is a
# quarter of a character's horizontal advance, which the vertical font sets to 1/1000 em (its W2 gives the
# vertical metrics, so no reader needs that advance); a column that starts level with the one before is
# started this fraction of a cell lower, far past that tolerance and far below what a selection shows.
COLUMN_STAGGER = 0.01
# The vertical font's horizontal advance, in thousandths of an em (see COLUMN_STAGGER).
VERTICAL_FONT_WIDTH = 1


@dataclass(frozen=True)
class PdfOptions:
    scan_dpi: float = 300  # pixels per inch the page images are taken to have: sets the pages' size
    image_dpi: float = 200  # resolution the images are stored at: higher ones are scaled down; 0 keeps them
    jpeg_quality: int = 75  # 1–95

    @classmethod
    def from_settings(cls) -> "PdfOptions":
        from django.conf import settings

        return cls(scan_dpi=settings.EXPORT_PDF_SCAN_DPI, image_dpi=settings.EXPORT_PDF_DPI,
                   jpeg_quality=settings.EXPORT_PDF_JPEG_QUALITY)


def write_pdf(pages: Iterable[DocumentPage], handle: BinaryIO, *, title: str = "",
              options: PdfOptions | None = None) -> int:
    """Writes the pages to `handle` (taken one at a time from `pages`, each image encoded and let go before
    the next); returns how many were written. A document without pages gets one blank page (a PDF must
    have one)."""
    writer = _PdfWriter(handle, options or PdfOptions())
    count = 0
    for page in pages:
        writer.add_page(page)
        count += 1
    if count == 0:
        writer.add_page(DocumentPage(width=round(A4_INCHES[0] * writer.options.scan_dpi),
                                     height=round(A4_INCHES[1] * writer.options.scan_dpi), lines=[]))
    writer.finish(title)
    return count


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def _utf16_hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def _pdf_text(text: str) -> str:
    """A text string for the document information: UTF-16 with its byte order mark, as a hex string."""
    return f"<FEFF{_utf16_hex(text)}>"


class _PdfWriter:
    # Objects whose numbers are fixed, so that pages can refer to them before they are written at the end.
    CATALOG, PAGES, FONT_H, FONT_V, CIDFONT_H, CIDFONT_V, DESCRIPTOR, FONT_FILE, TO_UNICODE, CID_TO_GID, INFO = \
        range(1, 12)

    def __init__(self, handle: BinaryIO, options: PdfOptions):
        self.handle, self.options = handle, options
        self.position = 0
        self.offsets: dict[int, int] = {}
        self.next_number = self.INFO + 1
        self.page_numbers: list[int] = []
        self.cids: dict[str, int] = {}
        # Binary bytes in the comment line tell transfer tools that the file is binary (PDF 7.5.2).
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    # --- low level -------------------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self.handle.write(data)
        self.position += len(data)

    def _new_number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def _object(self, number: int, dictionary: str, stream: bytes | None = None) -> None:
        self.offsets[number] = self.position
        if stream is None:
            self._write(f"{number} 0 obj\n{dictionary}\nendobj\n".encode("ascii"))
            return
        head = dictionary[:-2] if dictionary.endswith(">>") else dictionary
        self._write(f"{number} 0 obj\n{head} /Length {len(stream)} >>\nstream\n".encode("ascii"))
        self._write(stream)
        self._write(b"\nendstream\nendobj\n")

    def _flate_object(self, number: int, dictionary: str, data: bytes) -> None:
        self._object(number, dictionary[:-2] + " /Filter /FlateDecode >>", zlib.compress(data, 6))

    # --- pages -----------------------------------------------------------------------------------------

    def add_page(self, page: DocumentPage) -> None:
        scale = POINTS_PER_INCH / (page.resolution or self.options.scan_dpi)  # points per pixel
        width, height = max(1, page.width) * scale, max(1, page.height) * scale
        page_number, content_number = self._new_number(), self._new_number()
        content = []
        resources = [f"/Font << /F1 {self.FONT_H} 0 R /F2 {self.FONT_V} 0 R >>"]
        if page.image is not None:
            image_number = self._new_number()
            self._write_image(image_number, page.image, width, height)
            resources.append(f"/XObject << /Im0 {image_number} 0 R >>")
            content.append(f"q {_number(width)} 0 0 {_number(height)} 0 0 cm /Im0 Do Q")
        text = self._text_layer(page, scale, height)
        if text:
            content.append(text)
        self._flate_object(content_number, "<< >>", "\n".join(content).encode("ascii"))
        self._object(page_number, (
            f"<< /Type /Page /Parent {self.PAGES} 0 R /MediaBox [0 0 {_number(width)} {_number(height)}] "
            f"/Resources << {' '.join(resources)} >> /Contents {content_number} 0 R >>"))
        self.page_numbers.append(page_number)

    def _write_image(self, number: int, pixels: np.ndarray, width_pt: float, height_pt: float) -> None:
        gray = pixels.ndim == 2 or (np.array_equal(pixels[..., 0], pixels[..., 1])
                                    and np.array_equal(pixels[..., 1], pixels[..., 2]))
        # Grey first (a third of the pixels to scale), then scaled: that takes most of a page's time.
        image = Image.fromarray(pixels).convert("L" if gray else "RGB")
        if self.options.image_dpi > 0:
            target = (max(1, round(width_pt / POINTS_PER_INCH * self.options.image_dpi)),
                      max(1, round(height_pt / POINTS_PER_INCH * self.options.image_dpi)))
            if target[0] < image.width and target[1] < image.height:
                image = image.resize(target, Image.Resampling.BICUBIC, reducing_gap=2.0)
        encoded = io.BytesIO()
        image.save(encoded, "JPEG", quality=self.options.jpeg_quality)
        self._object(number, (
            f"<< /Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
            f"/ColorSpace /{'DeviceGray' if gray else 'DeviceRGB'} /BitsPerComponent 8 /Filter /DCTDecode >>"),
            encoded.getvalue())

    def _cid(self, character: str) -> int:
        cid = self.cids.get(character)
        if cid is None:
            if len(self.cids) >= MAX_CID:
                return self._cid(OVERFLOW_CHARACTER) if character != OVERFLOW_CHARACTER else 1
            cid = self.cids[character] = len(self.cids) + 1  # CID 0 is .notdef
        return cid

    def _text_layer(self, page: DocumentPage, scale: float, page_height: float) -> str:
        operations, font, column_top = [], None, None
        for line in page.lines:
            characters = list(line.text)
            if not line.text.strip():
                continue
            wanted = "/F2" if line.vertical else "/F1"
            if wanted != font:
                operations.append(f"{wanted} 1 Tf")
                font = wanted
            width, height, x, y = self._line_matrix(line, len(characters), scale, page_height)
            if line.vertical:
                # A column level with the one before starts a hair lower (see COLUMN_STAGGER).
                if column_top is not None and abs(y - column_top) < COLUMN_STAGGER * height:
                    y = column_top - COLUMN_STAGGER * height
                column_top = y
            matrix = " ".join(_number(value) for value in (width, 0, 0, height, x, y))
            operations.append(f"{matrix} Tm <{''.join(f'{self._cid(c):04X}' for c in characters)}> Tj")
        if not operations:
            return ""
        return "BT 3 Tr\n" + "\n".join(operations) + "\nET"

    @staticmethod
    def _line_matrix(line: DocumentLine, count: int, scale: float, page_height: float) -> tuple[float, ...]:
        """(cell width, cell height, x, y): the text matrix that makes the font's em one character cell of
        the line, from where the first character starts: on the baseline at the left of a line, at the top
        centre of a column (the vertical origin of the Identity-V glyphs: see the vertical font's W2)."""
        left, top, right, bottom = (value * scale for value in line.box)
        top, bottom = page_height - top, page_height - bottom  # PDF's y axis points up
        if line.vertical:
            width, height = right - left, (top - bottom) / count
            x, y = (left + right) / 2, top
        else:
            width, height = (right - left) / count, top - bottom
            x, y = left, bottom - DESCENT / UNITS_PER_EM * height
        return max(MIN_CELL, width), max(MIN_CELL, height), x, y

    # --- the end ---------------------------------------------------------------------------------------

    def finish(self, title: str) -> None:
        self._write_fonts()
        kids = " ".join(f"{number} 0 R" for number in self.page_numbers)
        self._object(self.PAGES, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.page_numbers)} >>")
        self._object(self.CATALOG, f"<< /Type /Catalog /Pages {self.PAGES} 0 R >>")
        info = f"/Producer {_pdf_text('PaddleOCR API')}"
        if title:
            info += f" /Title {_pdf_text(title)}"
        self._object(self.INFO, f"<< {info} >>")
        xref_at = self.position
        rows = [b"0000000000 65535 f \n"] + [f"{self.offsets[number]:010d} 00000 n \n".encode("ascii")
                                           for number in range(1, self.next_number)]
        self._write(f"xref\n0 {self.next_number}\n".encode("ascii") + b"".join(rows))
        identifier = uuid.uuid4().hex.upper()
        self._write((f"trailer\n<< /Size {self.next_number} /Root {self.CATALOG} 0 R /Info {self.INFO} 0 R "
                     f"/ID [<{identifier}> <{identifier}>] >>\nstartxref\n{xref_at}\n%%EOF\n").encode("ascii"))

    def _write_fonts(self) -> None:
        font = glyphless_font()
        self._object(self.FONT_FILE, f"<< /Length1 {len(font)} >>", font)
        self._object(self.DESCRIPTOR, (
            f"<< /Type /FontDescriptor /FontName /{FAMILY} /Flags 5 /FontBBox [0 {DESCENT} {UNITS_PER_EM} {ASCENT}] "
            f"/ItalicAngle 0 /Ascent {ASCENT} /Descent {DESCENT} /CapHeight {ASCENT} /StemV 80 "
            f"/FontFile2 {self.FONT_FILE} 0 R >>"))
        # CID 0 stays .notdef; every other CID is the one glyph.
        self._flate_object(self.CID_TO_GID, "<< >>",
                           b"\x00\x00" + CELL_GLYPH_ID.to_bytes(2, "big") * len(self.cids))
        self._flate_object(self.TO_UNICODE, "<< >>", self._to_unicode())
        system = "<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        # In the vertical font each CID advances one em down, its vertical origin at the top centre of the em.
        vertical = (f"/DW {VERTICAL_FONT_WIDTH} /DW2 [{ASCENT} -{UNITS_PER_EM}] "
                    f"/W2 [1 {MAX_CID} -{UNITS_PER_EM} {UNITS_PER_EM // 2} {ASCENT}]")
        for cidfont, metrics in ((self.CIDFONT_H, f"/DW {UNITS_PER_EM}"), (self.CIDFONT_V, vertical)):
            self._object(cidfont, (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FAMILY} /CIDSystemInfo {system} "
                f"/FontDescriptor {self.DESCRIPTOR} 0 R {metrics} /CIDToGIDMap {self.CID_TO_GID} 0 R >>"))
        for font_number, encoding, cidfont in ((self.FONT_H, "Identity-H", self.CIDFONT_H),
                                               (self.FONT_V, "Identity-V", self.CIDFONT_V)):
            self._object(font_number, (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{FAMILY} /Encoding /{encoding} "
                f"/DescendantFonts [{cidfont} 0 R] /ToUnicode {self.TO_UNICODE} 0 R >>"))

    def _to_unicode(self) -> bytes:
        entries = [f"<{cid:04X}> <{_utf16_hex(character)}>" for character, cid in self.cids.items()]
        blocks = []
        for start in range(0, len(entries), 100):  # at most 100 mappings per block (PDF 9.10.3)
            chunk = entries[start:start + 100]
            blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
        return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                + "\n".join(blocks) + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
                ).encode("ascii")
