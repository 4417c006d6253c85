"""Reading order from line boxes placed by hand: lines, columns, headings and footers, tables that stay rows,
vertical pages, registers (上下栏), double-line annotations (双行小注), skew, and auto per region."""

import math

from recognition.engines import TextLine
from recognition.pipeline.reading_order import detect_layout, order_lines

H = 30  # text height in pixels


def box(x, y, w, h):
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def line(text, x, y, w, h=H):
    return TextLine(text=text, confidence=0.9, box=box(x, y, w, h))


def column(text, x, y, h, w=H):
    return TextLine(text=text, confidence=0.9, box=box(x, y, w, h))


def texts(groups):
    return [[member.text for member in group] for group in groups]


def order(lines, layout="horizontal"):
    return [member.text for group in order_lines(lines, layout) for member in group]


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


def two_columns(rows=5, gutter=2 * H, top=100):
    """Lines of two text columns whose rows are aligned (the case that row-wise ordering interleaves)."""
    left = [line(f"L{i}", 50, top + i * 50, 400) for i in range(rows)]
    right = [line(f"R{i}", 450 + gutter, top + i * 50, 400) for i in range(rows)]
    return left, right


def test_two_columns_with_aligned_rows_are_read_column_by_column():
    left, right = two_columns()
    assert order(right + left) == [f"L{i}" for i in range(5)] + [f"R{i}" for i in range(5)]


def test_heading_and_footer_spanning_the_columns_come_first_and_last():
    left, right = two_columns()
    heading = line("heading", 300, 20, 400, 40)
    footer = line("footer", 50, 400, 700)
    assert order([footer] + right + [heading] + left) == (
        ["heading"] + [f"L{i}" for i in range(5)] + [f"R{i}" for i in range(5)] + ["footer"])


def test_three_columns_under_a_centred_heading_over_the_middle_column():
    columns = [[line(f"C{c}{i}", 50 + c * 350, 120 + i * 50, 300) for i in range(4)] for c in range(3)]
    heading = line("heading", 450, 20, 200, 38)  # narrower than the middle column, a wider gap below
    assert order([heading] + [l for col in reversed(columns) for l in col]) == (
        ["heading"] + [f"C{c}{i}" for c in range(3) for i in range(4)])


def test_a_box_reaching_into_the_next_column_keeps_the_columns():
    left, right = two_columns()
    # The detector made the second left line's box run 12 px into the right column's first characters.
    left[1] = line("L1", 50, 150, 400 + 2 * H + 12)
    assert order(left + right) == [f"L{i}" for i in range(5)] + [f"R{i}" for i in range(5)]


def test_a_page_number_centred_on_the_gutter_comes_last():
    left, right = two_columns(gutter=H)
    page_number = line("12", 440, 360, H)  # inside the gutter (450-480), left of its middle
    assert order([page_number] + left + right) == [f"L{i}" for i in range(5)] + [f"R{i}" for i in range(5)] + ["12"]


def test_table_cells_and_form_values_stay_rows():
    rows = [("品名", "数量", "单价"), ("打印机墨盒HP803", "1", "129.00"), ("鼠标M185", "1", "69.00"), ("文件夹A4", "12", "4.20")]
    cells = []
    for r, (name, count, price) in enumerate(rows):
        y = 50 + r * 55
        cells += [line(name, 40, y, 30 * len(name)), line(count, 470, y, 25 * len(count)), line(price, 630, y, 100)]
    assert order(cells) == [cell for row in rows for cell in row]


def test_paragraphs_of_one_column_read_top_to_bottom():
    lines = [line(f"P{i}", 50, 50 + i * 50 + (30 if i >= 3 else 0), 600 if i != 2 else 200) for i in range(6)]
    assert order(lines[::-1]) == [f"P{i}" for i in range(6)]


def test_skewed_two_column_scan_is_straightened_first():
    angle = math.radians(4)
    left, right = two_columns(rows=6, gutter=H)

    def skewed(text_line):
        turned = tuple((round(x * math.cos(angle) - y * math.sin(angle)), round(x * math.sin(angle) + y * math.cos(angle)))
                       for x, y in text_line.box)
        return TextLine(text=text_line.text, confidence=0.9, box=turned)

    # Turned by 4 degrees, the columns lean across their gutter: no vertical stripe separates them
    # until the page is straightened.
    assert order([skewed(l) for l in right + left]) == [f"L{i}" for i in range(6)] + [f"R{i}" for i in range(6)]


def test_vertical_rl_reads_columns_right_to_left_each_top_to_bottom():
    lines = [
        column("左列", 100, 50, 300),
        column("右列上", 300, 50, 150),
        column("右列下", 304, 220, 150),  # slightly shifted: still the same column
        column("中列", 200, 50, 300),
    ]
    assert texts(order_lines(lines, "vertical_rl")) == [["右列上", "右列下"], ["中列"], ["左列"]]


def test_vertical_lr_reads_columns_left_to_right():
    lines = [column("二", 200, 50, 300), column("一", 100, 50, 300)]
    assert texts(order_lines(lines, "vertical_lr")) == [["一"], ["二"]]


def registers(count=2, columns=4):
    """A genealogy page of registers stacked top to bottom, each with columns read right to left."""
    lines = []
    for r in range(count):
        for c in range(columns):
            lines.append(column(f"R{r}C{c}", 600 - c * 60, 50 + r * 400, 330 - 20 * (c % 2)))
    return lines


def test_registers_are_read_one_after_the_other():
    for count in (2, 3):
        expected = [f"R{r}C{c}" for r in range(count) for c in range(4)]
        assert order(registers(count)[::-1], "vertical_rl") == expected


def test_double_line_annotation_stays_beside_its_column():
    # Main text, then two half-width columns of small characters in the same column slot, right one first.
    lines = [
        column("第十九世孫明遠", 600, 50, 500, 40), column("娶陳氏生子二", 622, 560, 250, 18),
        column("長國樑次國樞", 600, 560, 250, 18),
        column("生於嘉慶二十年", 480, 50, 500, 40),
        column("配周氏", 360, 50, 220, 40), column("繼配林氏", 382, 280, 200, 18), column("前子如己出", 360, 280, 200, 18),
    ]
    assert order(lines[::-1], "vertical_rl") == [
        "第十九世孫明遠", "娶陳氏生子二", "長國樑次國樞", "生於嘉慶二十年", "配周氏", "繼配林氏", "前子如己出"]


def test_auto_reads_columns_right_to_left_and_lines_top_to_bottom():
    columns = [column("左列文字", 100, 50, 300), column("右列文字", 300, 50, 300), line("1", 200, 400, 30)]
    assert texts(order_lines(columns, "auto")) == [["右列文字"], ["1"], ["左列文字"]]
    rows = [line("second line", 20, 80, 300, 40), line("first line", 20, 0, 300, 40)]
    assert texts(order_lines(rows, "auto")) == [["first line"], ["second line"]]


def test_auto_orders_a_horizontal_title_above_vertical_columns_by_its_own_direction():
    lines = [line("李氏族谱", 200, 20, 200, 40), line("卷一", 420, 20, 100, 40),
             column("右列文字多", 500, 100, 300), column("中列文字多", 400, 100, 300), column("左列文字多", 300, 100, 300)]
    assert detect_layout(lines) == "vertical_rl"
    assert order(lines[::-1], "auto") == ["李氏族谱", "卷一", "右列文字多", "中列文字多", "左列文字多"]


def test_no_lines_no_groups():
    assert order_lines([], "vertical_rl") == []
