"""Output formats: ordered lines as the response's text (line_by_line, column_by_column, char_by_char)."""

from recognition.engines import TextLine
from recognition.pipeline.formats import format_text, join_segments
from recognition.pipeline.reading_order import order_lines


def line(text, x, y, w, h):
    return TextLine(text=text, confidence=0.9, box=((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_formats():
    groups = order_lines([line("Hello", 0, 0, 100, 40), line("PaddleOCR", 150, 0, 200, 40),
                          line("李氏族谱", 0, 80, 200, 40), line("第一卷", 220, 80, 150, 40)])
    assert format_text(groups, "line_by_line") == "Hello\nPaddleOCR\n李氏族谱\n第一卷"
    assert format_text(groups, "column_by_column") == "Hello PaddleOCR\n李氏族谱第一卷"
    assert format_text(groups, "char_by_char") == "Hello PaddleOCR李氏族谱第一卷"


def test_join_keeps_latin_words_apart_and_runs_cjk_together():
    assert join_segments(["Total:", "12.50"]) == "Total: 12.50"
    assert join_segments(["金额", "合计"]) == "金额合计"
    assert join_segments(["", "  ", "abc"]) == "abc"


def test_no_groups_no_text():
    assert format_text([], "char_by_char") == ""
