"""Output formats: ordered lines (grouped into visual lines or columns) as the response's text."""

import unicodedata

from ..engines import TextLine

OUTPUT_FORMATS = ("line_by_line", "column_by_column", "char_by_char")


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
