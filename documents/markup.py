"""What the XML renderers (hocr.py, alto.py) share: text that XML 1.0 can hold, integer boxes, and a file
written one page element at a time, so that a book never stands in memory as one tree."""

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import TextIO

from .pages import Box, DocumentPage

# Characters XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF). ElementTree escapes
# markup but writes these as they are, which would make the file ill-formed.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return NOT_XML.sub("", text)


def pixel_box(box: Box, page: DocumentPage) -> tuple[int, int, int, int]:
    """The box in whole pixels, inside the page: (left, top, right, bottom)."""
    left, top, right, bottom = box
    width, height = max(1, page.width), max(1, page.height)
    left, right = (min(max(0, round(value)), width) for value in (left, right))
    top, bottom = (min(max(0, round(value)), height) for value in (top, bottom))
    return left, top, max(right, left), max(bottom, top)


def write_pages(handle: TextIO, head: str, pages: Iterable[DocumentPage],
                page_element: Callable[[DocumentPage, int], ET.Element], tail: str, indent: bool = True) -> int:
    """Writes head, each page's element (built, written and let go in turn) and tail; returns the page
    count. The elements carry no namespace: they take the default namespace that head declares. `indent`:
    one element a line, indented (for markup whose text is not mixed with its elements)."""
    handle.write(head)
    count = 0
    for count, page in enumerate(pages, 1):
        element = page_element(page, count)
        if indent:
            ET.indent(element, space=" ", level=1)
        handle.write(" " + ET.tostring(element, encoding="unicode") + "\n")
    handle.write(tail)
    return count
