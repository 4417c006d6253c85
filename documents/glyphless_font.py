"""The font of the PDF text layer: a TrueType font of one glyph that paints nothing, one em wide and one em
tall, that every code point of planes 0–2 maps to.

The text layer is invisible (rendering mode 3), so its glyphs are never drawn; but a PDF must name a font
for it, and an embedded one keeps readers from substituting a system font (or refusing). A glyph with no
outline keeps the font under a kilobyte whatever the script, which is why OCR tools embed such a
"glyphless" font (Tesseract's GlyphLessFont is the model). Built with fontTools once per process (cached)
rather than shipped as a binary, so that the lines below say what it holds.

The cmap: planes 0–2 (the BMP, the Supplementary Multilingual Plane, and the Supplementary Ideographic Plane
where the rare characters of names are, such as 𠀀 U+20000 or 𤴓 U+24D13) through a 32-bit subtable of
format 13, the many-to-one form of format 12: format 12 maps a range to consecutive glyphs, so mapping
196,608 code points to one glyph would take one 12-byte group each (2.3 MB); format 13 does it in two
groups. A small format 4 subtable beside it serves the parsers that look for a BMP one. The PDF itself
selects the glyph through its CIDToGIDMap (pdf.py), so a reader never needs the cmap to place a character.
"""

import functools
import io
import struct

from fontTools.fontBuilder import FontBuilder
from fontTools.misc.timeTools import timestampFromString
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphCoordinates

UNITS_PER_EM = 1000
# The ideographic em box of CJK fonts: 88% of the em above the baseline, 12% below.
ASCENT, DESCENT = 880, -120
# The glyph every character is drawn with (glyph 0 is the required .notdef).
CELL_GLYPH_ID = 1
# Planes 0–2, less the UTF-16 surrogates, which are not characters.
CODE_POINT_RANGES = ((0x0000, 0xD7FF), (0xE000, 0x2FFFF))
FAMILY = "GlyphLessFont"


def _cell_glyph() -> Glyph:
    """A glyph that paints nothing and still has the cell as its bounding box: two contours of a single
    point each, at opposite corners of the em box. Readers measure characters by their glyph's box: with a
    truly empty glyph, pdfium (Chrome's reader) gives each character a box of no height, so that it cannot
    highlight a selection, and drops columns of vertical text altogether. Zero area: even a reader that
    painted invisible text would paint nothing."""
    glyph = Glyph()
    glyph.numberOfContours = 2
    glyph.coordinates = GlyphCoordinates([(0, DESCENT), (UNITS_PER_EM, ASCENT)])
    glyph.flags = bytearray([1, 1])  # on-curve points
    glyph.endPtsOfContours = [0, 1]
    glyph.program = ttProgram.Program()
    glyph.program.fromBytecode(b"")
    return glyph


def _planes_subtable() -> CmapSubtable:
    """The (3, 10) subtable of format 13 that maps planes 0–2 to the cell glyph, written as its groups: built
    from a mapping of every code point, fontTools would hold 196,608 entries (tens of megabytes) to find
    the same two groups."""
    groups = b"".join(struct.pack(">LLL", start, end, CELL_GLYPH_ID) for start, end in CODE_POINT_RANGES)
    subtable = CmapSubtable.newSubtable(13)
    subtable.platformID, subtable.platEncID, subtable.language = 3, 10, 0
    subtable.reserved, subtable.nGroups, subtable.length = 0, len(CODE_POINT_RANGES), 16 + len(groups)
    subtable.data = groups  # what is written
    # What the OS/2 table reads to find the first and last character: the two ends, not the 196,608 between.
    subtable.cmap = {CODE_POINT_RANGES[0][0]: "cell", CODE_POINT_RANGES[-1][1]: "cell"}
    return subtable


@functools.cache
def glyphless_font() -> bytes:
    """The font file (TrueType)."""
    glyph_order = [".notdef", "cell"]
    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(glyph_order)
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "cell": _cell_glyph()})
    builder.setupHorizontalMetrics({name: (UNITS_PER_EM, 0) for name in glyph_order})
    builder.setupHorizontalHeader(ascent=ASCENT, descent=DESCENT)
    # Vertical metrics too: in a column each character advances one em down.
    builder.setupVerticalMetrics({name: (UNITS_PER_EM, 0) for name in glyph_order})
    builder.setupVerticalHeader(ascent=UNITS_PER_EM // 2, descent=-UNITS_PER_EM // 2)
    builder.setupCharacterMap({0x20: "cell"})  # the token format 4 subtable (see above)
    builder.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=ASCENT, sTypoDescender=DESCENT, sTypoLineGap=0, usWinAscent=ASCENT,
                     usWinDescent=-DESCENT, achVendID="NONE")
    builder.setupPost()
    builder.font["cmap"].tables.append(_planes_subtable())
    # A fixed date: the same bytes in every process.
    built = timestampFromString("Wed Jan  1 00:00:00 2025")
    builder.setupHead(unitsPerEm=UNITS_PER_EM, created=built, modified=built)

    output = io.BytesIO()
    builder.save(output)
    return output.getvalue()
