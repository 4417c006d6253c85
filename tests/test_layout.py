"""Reading order and output formats, on boxes placed by hand (the grouping rules, without an engine)."""

from recognition.engines import TextLine
from recognition.layout import format_text, join_segments, order_lines


def box(x, y, w, h):
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def line(text, x, y, w, h):
    return TextLine(text=text, confidence=0.9, box=box(x, y, w, h))


def texts(groups):
    return [[member.text for member in group] for group in groups]


def test_horizontal_lines_read_top_to_bottom_and_left_to_right_with_tolerance():
    lines = [
        line("world", 300, 12, 120, 40),  # 12 px lower than "hello": same line within half a line height
        line("second", 20, 80, 200, 40),
        line("hello", 20, 0, 200, 40),
    ]
    assert texts(order_lines(lines, "horizontal")) == [["hello", "world"], ["second"]]


def test_lines_further_apart_than_the_tolerance_are_separate_lines():
    lines = [line("a", 20, 0, 100, 40), line("b", 300, 25, 100, 40)]
    assert texts(order_lines(lines, "horizontal")) == [["a"], ["b"]]


def test_vertical_rl_reads_columns_right_to_left_each_top_to_bottom():
    lines = [
        line("左列", 100, 50, 40, 300),
        line("右列上", 300, 50, 40, 150),
        line("右列下", 304, 220, 40, 150),  # slightly shifted: still the same column
        line("中列", 200, 50, 40, 300),
    ]
    assert texts(order_lines(lines, "vertical_rl")) == [["右列上", "右列下"], ["中列"], ["左列"]]


def test_vertical_lr_reads_columns_left_to_right():
    lines = [line("二", 200, 50, 40, 300), line("一", 100, 50, 40, 300)]
    assert texts(order_lines(lines, "vertical_lr")) == [["一"], ["二"]]


def test_upside_down_page_reads_from_the_bottom_right():
    lines = [line("last", 20, 0, 200, 40), line("first", 20, 100, 200, 40), line("left", 20, 200, 80, 40),
             line("right", 300, 200, 80, 40)]
    assert texts(order_lines(lines, "horizontal", upside_down=True)) == [["right", "left"], ["first"], ["last"]]


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


def test_no_lines_no_groups():
    assert order_lines([], "vertical_rl") == []
    assert format_text([], "char_by_char") == ""


def test_auto_reads_columns_right_to_left_and_lines_top_to_bottom():
    columns = [line("左列文字", 100, 50, 40, 300), line("右列文字", 300, 50, 40, 300), line("1", 200, 400, 30, 30)]
    assert texts(order_lines(columns, "auto")) == [["右列文字"], ["1"], ["左列文字"]]
    rows = [line("second line", 20, 80, 300, 40), line("first line", 20, 0, 300, 40)]
    assert texts(order_lines(rows, "auto")) == [["first line"], ["second line"]]
