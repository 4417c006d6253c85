"""ALTO 4 (https://www.loc.gov/standards/alto/): the pages as one ALTO file, a `Page` per page in order
(PHYSICAL_IMG_NR from 1), each with a PrintSpace holding one TextBlock of a `TextLine` per line (or column)
in reading order, and a `String` per word with HPOS VPOS WIDTH HEIGHT (pixels of the page image), WC (the
line's confidence, 0–1: the engine scores lines) and CONTENT; `SP` between the words of a line.

ALTO has no place for a page's file name (its schema names one source image per file, and Tags must come
before the pages, which are written as they come): the n-th Page is the n-th page in the order of the
document, which for a book is its book order, as in the JSON export. Chinese has no spaces between words:
a line of it is one String."""

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import TextIO
from xml.sax.saxutils import escape

from .markup import pixel_box, write_pages, xml_text
from .pages import DocumentPage, words

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/alto/v4/alto-4-4.xsd"
SOFTWARE = "PaddleOCR API"
HEAD = f"""<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="{NAMESPACE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{NAMESPACE} {SCHEMA}">
 <Description>
  <MeasurementUnit>pixel</MeasurementUnit>
  <sourceImageInformation>
   <fileName>{{source}}</fileName>
  </sourceImageInformation>
  <OCRProcessing ID="OCR_0">
   <ocrProcessingStep>
    <processingSoftware>
     <softwareName>{SOFTWARE}</softwareName>
    </processingSoftware>
   </ocrProcessingStep>
  </OCRProcessing>
 </Description>
 <Layout>
"""
TAIL = " </Layout>\n</alto>\n"


def _position(box) -> dict:
    left, top, right, bottom = box
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(right - left), "HEIGHT": str(bottom - top)}


def _page_element(page: DocumentPage, number: int) -> ET.Element:
    element = ET.Element("Page", {"ID": f"page_{number}", "PHYSICAL_IMG_NR": str(number),
                                  "WIDTH": str(page.width), "HEIGHT": str(page.height)})
    space = ET.SubElement(element, "PrintSpace", _position((0, 0, page.width, page.height)))
    block = None
    for line_number, line in enumerate(page.lines, 1):
        found = words(line)
        if not found:
            continue
        if block is None:
            block = ET.SubElement(space, "TextBlock", {"ID": f"block_{number}",
                                                       **_position(_union(page, page.lines))})
        text_line = ET.SubElement(block, "TextLine", {"ID": f"line_{number}_{line_number}",
                                                      **_position(pixel_box(line.box, page))})
        for word_number, (text, box) in enumerate(found, 1):
            if word_number > 1:
                ET.SubElement(text_line, "SP")
            ET.SubElement(text_line, "String", {"ID": f"string_{number}_{line_number}_{word_number}",
                                                **_position(pixel_box(box, page)),
                                                "WC": f"{min(1.0, max(0.0, line.confidence)):.4f}",
                                                "CONTENT": xml_text(text)})
    return element


def _union(page: DocumentPage, lines) -> tuple[int, int, int, int]:
    boxes = [pixel_box(line.box, page) for line in lines if line.text.strip()]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def write_alto(pages: Iterable[DocumentPage], handle: TextIO, *, title: str = "") -> int:
    """Writes the pages to `handle` (text, UTF-8) one at a time; returns how many were written. `title`
    names the source (the scanned folder, or the uploaded file)."""
    return write_pages(handle, HEAD.format(source=escape(xml_text(title))), pages, _page_element, TAIL)
