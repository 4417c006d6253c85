"""Reading order and output formats.

Engines return lines in no reliable order (vertical columns come left to right, upside-down pages
backwards), so the service orders them itself. Lines are grouped into visual lines (horizontal layout) or
columns (vertical layouts) with a tolerance relative to the text's height, never by exact coordinates.
"""

import statistics
import unicodedata

from .engines import TextLine

# `auto` reads a page as vertical_rl when most of its text stands in columns, else as horizontal.
TEXT_LAYOUTS = ("horizontal", "vertical_rl", "vertical_lr", "auto")
OUTPUT_FORMATS = ("line_by_line", "column_by_column", "char_by_char")

# Two boxes belong to one line (or column) when their centres across the reading direction are closer
# than this fraction of the text height.
SAME_LINE_TOLERANCE = 0.5


def _extent(line: TextLine, axis: int) -> tuple[float, float]:
    values = [point[axis] for point in line.box]
    return min(values), max(values)


def is_column(line: TextLine) -> bool:
    """A box of several characters much taller than wide: a line of vertical text."""
    (x_low, x_high), (y_low, y_high) = _extent(line, 0), _extent(line, 1)
    return len(line.text.strip()) >= 2 and (y_high - y_low) > 1.5 * (x_high - x_low)


def detect_layout(lines: list[TextLine]) -> str:
    """vertical_rl when most characters stand in columns (Chinese books and genealogies), else horizontal."""
    in_columns = sum(len(line.text.strip()) for line in lines if is_column(line))
    total = sum(len(line.text.strip()) for line in lines)
    return "vertical_rl" if total and 2 * in_columns > total else "horizontal"


def order_lines(lines: list[TextLine], layout: str = "horizontal", upside_down: bool = False) -> list[list[TextLine]]:
    """Lines grouped into visual lines or columns, groups and members in reading order."""
    if not lines:
        return []
    if layout == "auto":
        layout = detect_layout(lines)
    vertical = layout != "horizontal"
    # Across: the axis lines are stacked along (y for horizontal text, x for columns); along: within a line.
    across_axis, along_axis = (0, 1) if vertical else (1, 0)
    # An upside-down page is read in the image turned by 180 degrees: both axes reversed.
    flip = -1.0 if upside_down else 1.0
    # Columns of vertical_rl are read right to left: the across axis runs backwards.
    across_sign = flip * (-1.0 if layout == "vertical_rl" else 1.0)

    def across(line: TextLine) -> float:
        low, high = _extent(line, across_axis)
        return across_sign * (low + high) / 2

    def along(line: TextLine) -> float:
        low, high = _extent(line, along_axis)
        return flip * (low if flip > 0 else high)

    def thickness(line: TextLine) -> float:
        low, high = _extent(line, across_axis)
        return max(1.0, high - low)

    tolerance = SAME_LINE_TOLERANCE * statistics.median(thickness(line) for line in lines)
    groups: list[list[TextLine]] = []
    centres: list[float] = []
    for line in sorted(lines, key=across):
        position = across(line)
        if groups and abs(position - centres[-1]) <= tolerance:
            groups[-1].append(line)
            centres[-1] = statistics.fmean(across(member) for member in groups[-1])
        else:
            groups.append([line])
            centres.append(position)
    return [sorted(group, key=along) for group in groups]


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in {"W", "F"}


def join_segments(texts: list[str]) -> str:
    """Joins pieces of one line: CJK runs together, Latin words keep a space between them."""
    joined = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if joined and not _is_wide(joined[-1]) and not _is_wide(text[0]):
            joined += " "
        joined += text
    return joined


def format_text(groups: list[list[TextLine]], output_format: str = "line_by_line") -> str:
    if output_format == "column_by_column":
        return "\n".join(join_segments([line.text for line in group]) for group in groups)
    if output_format == "char_by_char":
        return join_segments([line.text for group in groups for line in group])
    return "\n".join(line.text.strip() for group in groups for line in group if line.text.strip())
