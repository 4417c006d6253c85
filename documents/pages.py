"""The pages the renderers are fed, and where a line's characters and words stand on them.

Boxes are in the pixels of the page image, origin top left, as the recognition API gives them. A line's
characters are laid out in equal cells along it: across a horizontal line from left to right, down a
vertical column from top to bottom. The engine gives boxes of whole lines, not of characters, so cells of
equal size are the estimate; the PDF's glyphs, and the words of hOCR and ALTO, use the same cells, so the
three formats agree on where a word is.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]  # left, top, right, bottom
# The size of a page that has no other (an empty document, a page whose image is gone): A4.
A4_INCHES = (8.27, 11.69)


@dataclass(frozen=True)
class DocumentLine:
    text: str
    box: Box
    confidence: float  # 0–1
    vertical: bool = False  # a column, read top to bottom

    @classmethod
    def from_points(cls, text: str, points, confidence: float, vertical: bool = False) -> "DocumentLine":
        """A line from the API's box (four [x, y] points): its bounding rectangle."""
        xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
        return cls(text, (min(xs), min(ys), max(xs), max(ys)), float(confidence), vertical)


@dataclass
class DocumentPage:
    width: int  # pixels: the frame of the boxes
    height: int
    lines: Sequence[DocumentLine]  # in reading order
    source: str = ""  # the scanned file, as the book names it (its path relative to the scanned folder)
    source_page: int | None = None  # the page's number inside a multi-page file (PDF, TIFF), from 1
    image: np.ndarray | None = field(default=None, repr=False)  # RGB pixels, for the PDF; None: text only
    # Pixels per inch of the image where known (a page rendered from a PDF): sets the PDF page's size, which
    # otherwise follows PdfOptions.scan_dpi.
    resolution: float | None = None


def cells(line: DocumentLine) -> list[tuple[str, Box]]:
    """Each character of the line (code point) with its cell."""
    characters = list(line.text)
    if not characters:
        return []
    left, top, right, bottom = line.box
    count = len(characters)
    if line.vertical:
        step = (bottom - top) / count
        return [(character, (left, top + n * step, right, top + (n + 1) * step)) for n, character in enumerate(characters)]
    step = (right - left) / count
    return [(character, (left + n * step, top, left + (n + 1) * step, bottom)) for n, character in enumerate(characters)]


def words(line: DocumentLine) -> list[tuple[str, Box]]:
    """The line's words (runs of non-space characters) with the boxes their cells cover. Chinese has no
    spaces between words: a line of it is one word, as the engine read it."""
    found, run = [], []
    for character, cell in cells(line) + [(" ", None)]:
        if not character.isspace():
            run.append((character, cell))
            continue
        if run:
            first, last = run[0][1], run[-1][1]
            found.append(("".join(c for c, _ in run), (first[0], first[1], last[2], last[3])))
            run = []
    return found
