"""Reading order from line boxes alone: visual lines (or columns) grouped, blocks and columns found.

Every layout is ordered by one algorithm in a *reading frame*: `u` runs along a line of text and `v`
across lines, in reading order. Horizontal text: u = x, v = y. Vertical columns read right to left
(`vertical_rl`): u = y, v = -x; left to right (`vertical_lr`): u = y, v = x. A vertical page is thus
ordered as a horizontal page made of its transposed boxes.

In the frame, a block of lines is read as follows (recursively, like an XY-cut):
1. *Bands*: lines whose centres across (v) are closer than half the text height form one visual line
   (or one column of a vertical page). Small double-line annotations (双行小注) lie inside the band of the
   column they annotate, so they stay beside it: a band is read along u, and pieces that stand side by
   side at the same u are read across (the right annotation line, then the left one).
2. *Sections*: consecutive bands that share a gutter — a stripe along v, at least MIN_GUTTER text heights
   wide, that no line of those bands crosses — form a multi-column section; a line across the gutter (a
   heading, a footer, a caption spanning the columns), a line of larger text, or a gap much wider than
   the usual one between bands ends the section. On a vertical page the same rule finds registers
   stacked one above the other (上下栏).
3. Each column of a section is read through, as a block of its own, before the next one; a section
   without a gutter is read band by band.
A gutter only separates columns of text: columns much wider than the gutter (COLUMN_TO_GUTTER) whose lines
fill them (MIN_COLUMN_FILL). The cells of a table, or a key and its value far apart on a form or a receipt,
do not, so they stay one line, read left to right.

Skewed scans are straightened first: the frame is turned by the median slant of the long boxes.
`auto` orders each region of a page in its own direction (a horizontal title over vertical columns).
"""

import statistics
from dataclasses import dataclass

import numpy as np

from ..engines import TextLine

TEXT_LAYOUTS = ("auto", "horizontal", "vertical_rl", "vertical_lr")

# Two boxes belong to one band when their centres across are closer than this fraction of the text height.
SAME_LINE_TOLERANCE = 0.5
# A gutter between columns is at least this many text heights wide ...
MIN_GUTTER = 0.8
# ... and each column it separates is at least this many times wider than the gutter.
COLUMN_TO_GUTTER = 2.0
# A box reaching less than this many text heights past a gutter's far edge intrudes into the next column
# (detectors bridge part of a narrow gutter) rather than spanning the columns.
INTRUSION = 1.0
# Bands further apart than this many times the block's usual gap between bands are separate blocks (a
# heading or a footer above or below the columns).
BLOCK_GAP = 2.0
# Text this many times the block's text height is a heading: it never joins a multi-column section.
HEADING_SIZE = 1.3
# ... and a column's lines fill at least this fraction of its width (median over its bands).
MIN_COLUMN_FILL = 0.5
# Boxes slanted by more than this (radians) are not taken to measure the page's skew.
MAX_SKEW = 0.2


@dataclass
class _Box:
    line: TextLine
    u0: float
    u1: float
    v0: float
    v1: float

    @property
    def v_centre(self) -> float:
        return (self.v0 + self.v1) / 2

    @property
    def thickness(self) -> float:
        return max(1.0, self.v1 - self.v0)


def order_lines(lines: list[TextLine], layout: str = "horizontal") -> list[list[TextLine]]:
    """Lines grouped into visual lines (or columns), groups and their members in reading order."""
    if not lines:
        return []
    if layout == "auto":
        return _order_auto(lines)
    boxes = _in_frame(lines, layout)
    return [[box.line for box in group] for group in _read_block(boxes)]


def line_direction(line: TextLine) -> str | None:
    """"vertical" for a column of several characters, "horizontal" for a wide line, None when the shape
    does not say (a single character, a square box)."""
    points = np.asarray(line.box, dtype=np.float64)
    width, height = np.ptp(points[:, 0]), np.ptp(points[:, 1])
    if len(line.text.strip()) < 2:
        return None
    if height > 1.5 * width:
        return "vertical"
    if width > 1.5 * height:
        return "horizontal"
    return None


def detect_layout(lines: list[TextLine]) -> str:
    """vertical_rl when most characters stand in columns (Chinese books and genealogies), else horizontal."""
    in_columns = sum(len(line.text.strip()) for line in lines if line_direction(line) == "vertical")
    total = sum(len(line.text.strip()) for line in lines)
    return "vertical_rl" if total and 2 * in_columns > total else "horizontal"


# --- The reading frame ----------------------------------------------------------------------------------

def _skew(lines: list[TextLine], vertical: bool) -> float:
    """The page's slant in radians (clockwise positive), from the long edges of elongated boxes."""
    angles = []
    for line in lines:
        p = np.asarray(line.box, dtype=np.float64)
        along = p[3] - p[0] if vertical else p[1] - p[0]  # left edge down a column, top edge along a line
        length = np.hypot(*along)
        across = np.hypot(*((p[1] - p[0]) if vertical else (p[3] - p[0])))
        if length < 2 * across:
            continue
        angle = np.arctan2(-along[0], along[1]) if vertical else np.arctan2(along[1], along[0])
        if abs(angle) <= MAX_SKEW:
            angles.append(angle)
    return statistics.median(angles) if angles else 0.0


def _in_frame(lines: list[TextLine], layout: str) -> list[_Box]:
    vertical = layout != "horizontal"
    angle = _skew(lines, vertical)
    cos, sin = np.cos(angle), np.sin(angle)
    boxes = []
    for line in lines:
        p = np.asarray(line.box, dtype=np.float64)
        # Straightened: turned back by the page's slant.
        x = p[:, 0] * cos + p[:, 1] * sin
        y = -p[:, 0] * sin + p[:, 1] * cos
        u, v = (y, -x if layout == "vertical_rl" else x) if vertical else (x, y)
        boxes.append(_Box(line, float(u.min()), float(u.max()), float(v.min()), float(v.max())))
    return boxes


# --- Blocks, sections, bands ----------------------------------------------------------------------------

def _read_block(boxes: list[_Box]) -> list[list[_Box]]:
    groups: list[list[_Box]] = []
    text_height = statistics.median(box.thickness for box in boxes)
    for bands, gutters in _sections(_bands(boxes, text_height), boxes, text_height):
        if not gutters:
            groups.extend(_read_band(band) for band in bands)
            continue
        members = [box for band in bands for box in band]
        edges = [float("-inf"), *((low + high) / 2 for low, high in gutters), float("inf")]
        for left, right in zip(edges, edges[1:]):
            column = [box for box in members if left < (box.u0 + box.u1) / 2 < right]
            groups.extend(_read_block(column))
    return groups


def _bands(boxes: list[_Box], text_height: float) -> list[list[_Box]]:
    """Boxes clustered into visual lines across the block, in reading order across (v)."""
    bands: list[list[_Box]] = []
    centres: list[float] = []
    for box in sorted(boxes, key=lambda b: b.v_centre):
        if bands:
            thickest = max(text_height, box.thickness, max(member.thickness for member in bands[-1]))
            if abs(box.v_centre - centres[-1]) <= SAME_LINE_TOLERANCE * thickest:
                bands[-1].append(box)
                centres[-1] = statistics.fmean(member.v_centre for member in bands[-1])
                continue
        bands.append([box])
        centres.append(box.v_centre)
    return bands


def _read_band(band: list[_Box]) -> list[_Box]:
    """Along u; pieces side by side at the same u (double-line annotations) across v."""
    ordered: list[_Box] = []
    stack: list[_Box] = []
    stack_end = float("-inf")
    for box in sorted(band, key=lambda b: b.u0):
        widest = max((b.u1 - b.u0 for b in stack), default=0.0)
        if stack and stack_end - box.u0 > 0.5 * min(box.u1 - box.u0, widest):
            stack.append(box)
            stack_end = max(stack_end, box.u1)
        else:
            ordered.extend(sorted(stack, key=lambda b: b.v_centre))
            stack, stack_end = [box], box.u1
    ordered.extend(sorted(stack, key=lambda b: b.v_centre))
    return ordered


def _sections(bands: list[list[_Box]], boxes: list[_Box], text_height: float
              ) -> list[tuple[list[list[_Box]], list[tuple[float, float]]]]:
    """Runs of consecutive bands with the gutters they share (none for a run read band by band)."""
    span = (min(box.u0 for box in boxes), max(box.u1 for box in boxes))
    min_gutter = MIN_GUTTER * text_height

    def inner_gutters(free):
        return [(low, high) for low, high in free
                if high - low >= min_gutter and low > span[0] and high < span[1]]

    def respected(gutters, band_boxes):
        return [gutter for gutter in gutters if not any(_spans(box, gutter, text_height) for box in band_boxes)]

    gaps = [min(box.v0 for box in after) - max(box.v1 for box in before) for before, after in zip(bands, bands[1:])]
    block_gap = max(BLOCK_GAP * statistics.median(gaps), MIN_GUTTER * text_height) if gaps else 0.0

    sections = []
    run: list[list[_Box]] = []
    free: list[tuple[float, float]] = []
    for index, band in enumerate(bands):
        band_free = _uncovered(span, band)
        if run and not (gaps[index - 1] > block_gap or _is_heading(band, text_height)
                        or _is_heading(run[-1], text_height)):
            gutters = inner_gutters(_intersect(free, band_free))
            # A line's box that reaches a little into the next column does not end the section.
            if not gutters:
                gutters = respected(inner_gutters(free), band)
            if not gutters and len(run) == 1:
                gutters = respected(inner_gutters(band_free), run[0])
            if gutters:
                run.append(band)
                free = gutters
                continue
        if run:
            sections.append((run, _column_gutters(run, inner_gutters(free))))
        run, free = [band], band_free
    sections.append((run, _column_gutters(run, inner_gutters(free))))
    return sections


def _is_heading(band: list[_Box], text_height: float) -> bool:
    """A band of markedly larger text than the block's: a heading, read on its own."""
    return min(box.thickness for box in band) >= HEADING_SIZE * text_height


def _spans(box: _Box, gutter: tuple[float, float], text_height: float) -> bool:
    """Whether the box runs across the gutter (a heading, a footer), rather than reaching less than
    INTRUSION text heights past its far edge (a detector's box a little too long)."""
    low, high = gutter
    if box.u1 <= low or box.u0 >= high:
        return False
    centre = (box.u0 + box.u1) / 2
    if low <= centre <= high:  # centred on the gutter: a short heading or footer, no column's line
        return True
    if centre < low:
        return box.u1 - high > INTRUSION * text_height
    return low - box.u0 > INTRUSION * text_height


def _column_gutters(run: list[list[_Box]], gutters: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The gutters that separate columns of text, in a run of several bands."""
    if len(run) < 2 or not gutters:
        return []
    members = [box for band in run for box in band]
    bounds = [min(box.u0 for box in members), *[edge for gutter in gutters for edge in gutter],
              max(box.u1 for box in members)]
    columns = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
    return [gutter for index, gutter in enumerate(gutters)
            if all(_is_text_column(run, columns[side], gutter[1] - gutter[0]) for side in (index, index + 1))]


def _is_text_column(run: list[list[_Box]], column: tuple[float, float], gutter: float) -> bool:
    """Lines of text fill their column, and the column is much wider than the gutter beside it; the cells
    of a table or a form (a key, its value far to the right) do neither."""
    low, high = column
    if high - low < COLUMN_TO_GUTTER * gutter:
        return False
    fills = []
    for band in run:
        inside = [box for box in band if low <= (box.u0 + box.u1) / 2 <= high]
        if inside:
            free = sum(end - start for start, end in _uncovered(column, inside))
            fills.append(1 - free / (high - low))
    return len(fills) >= 2 and statistics.median(fills) >= MIN_COLUMN_FILL


def _uncovered(span: tuple[float, float], band: list[_Box]) -> list[tuple[float, float]]:
    free = []
    position = span[0]
    for box in sorted(band, key=lambda b: b.u0):
        if box.u0 > position:
            free.append((position, box.u0))
        position = max(position, box.u1)
    if position < span[1]:
        free.append((position, span[1]))
    return free


def _intersect(first: list[tuple[float, float]], second: list[tuple[float, float]]) -> list[tuple[float, float]]:
    shared = []
    for low_a, high_a in first:
        for low_b, high_b in second:
            low, high = max(low_a, low_b), min(high_a, high_b)
            if high > low:
                shared.append((low, high))
    return shared


# --- auto: each region in its own direction -------------------------------------------------------------

LAYOUT_OF_DIRECTION = {"horizontal": "horizontal", "vertical": "vertical_rl"}


def _order_auto(lines: list[TextLine]) -> list[list[TextLine]]:
    page_layout = detect_layout(lines)
    page_direction = "vertical" if page_layout != "horizontal" else "horizontal"
    groups = []
    for direction, region in _direction_regions(lines, page_direction):
        boxes = _in_frame(region, LAYOUT_OF_DIRECTION[direction])
        groups.extend([box.line for box in group] for group in _read_block(boxes))
    return groups


def _direction_regions(lines: list[TextLine], page_direction: str) -> list[tuple[str, list[TextLine]]]:
    """The page cut across at its empty horizontal stripes into slabs, runs of slabs of one text direction
    merged into regions, top to bottom. A slab that mixes directions, or whose shapes do not say, goes with
    the page's direction."""
    regions: list[tuple[str, list[TextLine]]] = []
    for slab in _slabs(lines):
        directions = {line_direction(line) for line in slab} - {None}
        direction = directions.pop() if len(directions) == 1 else page_direction
        if regions and regions[-1][0] == direction:
            regions[-1][1].extend(slab)
        else:
            regions.append((direction, list(slab)))
    return regions


def _slabs(lines: list[TextLine]) -> list[list[TextLine]]:
    """Lines grouped by overlapping vertical extents, top to bottom."""
    spans = sorted(((min(p[1] for p in line.box), max(p[1] for p in line.box), line) for line in lines),
                   key=lambda item: item[0])
    slabs: list[list[TextLine]] = []
    bottom = float("-inf")
    for top, low, line in spans:
        if slabs and top < bottom:
            slabs[-1].append(line)
            bottom = max(bottom, low)
        else:
            slabs.append([line])
            bottom = low
    return slabs
