"""Document renderers: a book (or one upload) as a searchable PDF, an hOCR file or an ALTO 4 file.

They are fed pages (pages.py): the size the boxes are measured in, the lines in reading order with their
boxes, confidence and direction, and for the PDF the page image. They import no app of the project, so that
both the batch exports (exports/) and the single recognition (recognition/) use them, and neither of those
apps has to import the other.

    pages.py           DocumentPage, DocumentLine; the character cells and words of a line
    glyphless_font.py  the PDF text layer's font: one empty glyph for every code point of planes 0–2
    pdf.py             searchable PDF: page images with an invisible text layer, written page by page
    hocr.py            hOCR (XHTML): ocr_page / ocr_line / ocrx_word with bbox and x_wconf
    alto.py            ALTO 4 XML: Page / TextBlock / TextLine / String with HPOS VPOS WIDTH HEIGHT WC CONTENT
    markup.py          what hOCR and ALTO share: XML-safe text, pages written one element at a time
    formats.py         the three formats by name: extension, media type, writer
"""
