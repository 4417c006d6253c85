"""hOCR (http://kba.github.io/hocr-spec/1.2/): the pages as XHTML, one `ocr_page` per page holding an
`ocr_line` per line (or column) in reading order, and an `ocrx_word` per word, each with its `bbox` in the
page image's pixels; words carry `x_wconf`, the line's confidence in percent (the engine scores lines).

The page's `title` names its image (the file relative to the scanned folder), its size and `ppageno`, its
place in the document from 0; a page of a multi-page file (PDF, TIFF) adds `x_source_page`, its number in
that file from 1. Chinese has no spaces between words: a line of it is one word."""

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from .markup import pixel_box, write_pages, xml_text
from .pages import DocumentPage, words

SOFTWARE = "PaddleOCR API"
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
 <title>{title}</title>
 <meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>
 <meta name="ocr-system" content={software}/>
 <meta name="ocr-capabilities" content="ocr_page ocr_line ocrx_word ocrp_wconf"/>
</head>
<body>
"""
TAIL = "</body>\n</html>\n"


def _bbox(box) -> str:
    return "bbox {} {} {} {}".format(*box)


def _page_element(page: DocumentPage, number: int) -> ET.Element:
    title = [f'image "{xml_text(page.source).replace(chr(34), "")}"', _bbox((0, 0, page.width, page.height)),
             f"ppageno {number - 1}"]
    if page.source_page is not None:
        title.append(f"x_source_page {page.source_page}")
    element = ET.Element("div", {"class": "ocr_page", "id": f"page_{number}", "title": "; ".join(title)})
    element.text = "\n"
    for line_number, line in enumerate(page.lines, 1):
        found = words(line)
        if not found:
            continue
        span = ET.SubElement(element, "span", {"class": "ocr_line", "id": f"line_{number}_{line_number}",
                                               "title": _bbox(pixel_box(line.box, page))})
        confidence = round(line.confidence * 100)
        for word_number, (text, box) in enumerate(found, 1):
            word = ET.SubElement(span, "span", {"class": "ocrx_word", "id": f"word_{number}_{line_number}_{word_number}",
                                                "title": f"{_bbox(pixel_box(box, page))}; x_wconf {confidence}"})
            word.text = xml_text(text)
            word.tail = " "
        word.tail = None
        span.tail = "\n"
    return element


def write_hocr(pages: Iterable[DocumentPage], handle: TextIO, *, title: str = "") -> int:
    """Writes the pages to `handle` (text, UTF-8) one at a time; returns how many were written."""
    head = HEAD.format(title=escape(xml_text(title)), software=quoteattr(SOFTWARE))
    # Not indented: the spaces between a line's words are its text, as a browser shows it.
    return write_pages(handle, head, pages, _page_element, TAIL, indent=False)
