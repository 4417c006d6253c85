"""Volume and page numbers from file and folder names, and the book order of a scan's files.

Forms understood (API.md): `卷一_001.jpg`, `卷1-5.png`, `李氏族谱卷三第12张.jpg`, `第二卷/第十二页.png`,
`volume2_page003.png`, `vol.2 p.3.jpg`, `v1_p001.jpg`, `page-007.jpg`, `p12.jpg`, `001.jpg`, a volume folder
(`卷二/003.jpg`, `volume2/003.jpg`, `v2/003.jpg`). Chinese numerals (一 二 十 百 千 零 〇 两, 壹 贰 叁 …) are converted.
A leading year (`2024族谱_005.jpg`) is never taken for a page number.

Book order = volume, page number, natural order of the relative path (`2.jpg` before `10.jpg`); files
without a volume come first, files without a page number first within their volume.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "貳": 2, "两": 2, "兩": 2, "三": 3, "叁": 3,
             "參": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "陸": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
             "九": 9, "玖": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_CHARS = "".join(CN_DIGITS) + "".join(CN_UNITS)
NUM = rf"(\d+|[{CN_CHARS}]+)"

# Volume markers, most specific first. Each has one group: the number.
VOLUME_PATTERNS = [
    re.compile(rf"第\s*{NUM}\s*[卷冊册本]"),
    re.compile(rf"[卷冊册](?:之|第)?\s*{NUM}"),
    re.compile(r"(?<![a-z])(?:volume|vol|v)[\s._-]*(\d+)", re.IGNORECASE),
]
# Page markers. Each has one group: the number.
PAGE_PATTERNS = [
    re.compile(rf"第\s*{NUM}\s*[页頁张張叶葉面]"),
    re.compile(r"(\d+)\s*[页頁张張叶葉]"),
    re.compile(r"(?<![a-z])(?:page|pg|p)[\s._-]*(\d+)", re.IGNORECASE),
]
DIGITS = re.compile(r"\d+")
LEADING_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)(?=\D)")
NATURAL_PART = re.compile(r"(\d+)")


def chinese_to_int(text: str) -> int | None:
    """`十二` → 12, `一百零五` → 105, `三千二百` → 3200, `一二` → 12 (digit by digit), `12` → 12."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if any(char not in CN_DIGITS and char not in CN_UNITS for char in text):
        return None
    if not any(char in CN_UNITS for char in text):
        return int("".join(str(CN_DIGITS[char]) for char in text))
    total, digit = 0, None
    for char in text:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        else:
            total += (1 if digit is None else digit) * CN_UNITS[char]
            digit = None
    return total + (digit or 0)


def _search(patterns, text: str) -> tuple[int | None, str]:
    """The first pattern's number found in text, and text with that match cut out."""
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            number = chinese_to_int(match.group(1))
            if number is not None:
                return number, text[:match.start()] + " " + text[match.end():]
    return None, text


@dataclass(frozen=True)
class PagePosition:
    volume: int | None
    page: int | None


def parse_position(relative_path: str) -> PagePosition:
    """Volume and page number of one file, from its name and, for the volume, its folders."""
    parts = PurePosixPath(relative_path.replace("\\", "/")).parts
    stem = PurePosixPath(parts[-1]).stem if parts else ""
    volume, rest = _search(VOLUME_PATTERNS, stem)
    if volume is None:
        for folder in reversed(parts[:-1]):
            volume, _ = _search(VOLUME_PATTERNS, folder)
            if volume is not None:
                break
    page, rest2 = _search(PAGE_PATTERNS, rest)
    if page is None:
        candidate = LEADING_YEAR.sub(" ", rest.strip()) if not rest.strip().isdigit() else rest.strip()
        numbers = DIGITS.findall(candidate)
        if numbers:
            page = int(numbers[-1])
        elif rest.strip() and all(char in CN_CHARS for char in rest.strip()):
            page = chinese_to_int(rest.strip())  # `一百零五.jpg`
    return PagePosition(volume=volume, page=page)


def natural_key(text: str) -> tuple:
    """`a2` before `a10`; case-insensitive."""
    return tuple((0, int(part), part) if part.isdigit() else (1, 0, part.casefold())
                 for part in NATURAL_PART.split(text) if part != "")


def book_order_key(relative_path: str, position: PagePosition | None = None) -> tuple:
    position = position or parse_position(relative_path)
    return (
        -1 if position.volume is None else position.volume,
        -1 if position.page is None else position.page,
        natural_key(relative_path),
    )


def _number_bytes(number: int | None) -> bytes:
    """A number that sorts as bytes as it does as an int: None (-1 in book_order_key) first, then by the count
    of its digits, then by its digits."""
    if number is None or number < 0:
        return b"\x00"
    digits = str(number).encode("ascii")
    return b"\x01" + len(digits).to_bytes(2, "big") + digits


def book_order_bytes(relative_path: str, position: PagePosition) -> bytes:
    """book_order_key as one bytes string that sorts the same way: a few dozen bytes a page instead of a tuple
    of tuples, so that listing.py can sort the keys of a 100,000-page book in memory. Each part ends in a
    byte no part contains (a length prefix, or NUL after text), so a part that is a prefix of another sorts
    first, as in the tuple."""
    encoded = [_number_bytes(position.volume), _number_bytes(position.page)]
    for kind, number, part in natural_key(relative_path):
        body = _number_bytes(number) + part.encode("utf-8", "surrogatepass") if kind == 0 else \
            part.encode("utf-8", "surrogatepass")
        encoded.append(bytes((kind + 1,)) + body + b"\x00")
    return b"".join(encoded)


def sort_book_order(files: list, path=lambda file: file) -> list[tuple[object, PagePosition]]:
    """The files of a scan in book order, each with its parsed position; path gives a file's relative path
    (by default the files are their relative paths)."""
    positioned = [(file, parse_position(path(file))) for file in files]
    positioned.sort(key=lambda item: book_order_key(path(item[0]), item[1]))
    return positioned
