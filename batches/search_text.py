"""The text that search compares, and the grams its index is made of.

A page is searched in its recognised lines (json_data's details, reading order), each normalised character
by character so that a query and a text agree whatever form either was written in:

* NFKC: full-width Latin and digits, compatibility ideographs (U+F900…) become their ordinary forms;
* traditional → simplified with OpenCC's `t2s` character table, one character at a time: its phrase table
  maps a character differently inside different words (乾隆 keeps 乾, 乾 alone becomes 干), and a query of
  one character must agree with the same character inside a text. Simplified is the side both meet on,
  since one simplified character can stand for several traditional ones (发: 發 and 髮);
* casefold for Latin; whitespace is dropped (OCR puts spaces between CJK characters at random).

Lines stay apart ("\\n" in SearchText.text): a hit lies inside one line, the line the client highlights.

Grams (batches.models.SearchPosting): every distinct character and every distinct pair of adjacent
characters of a line, packed into one integer. A query of one or two characters is a gram: the pages that
have it are exactly the pages that contain the query. A longer query needs all of its pairs: those pages are
candidates, confirmed against the normalised text.
"""

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_QUERY_GRAMS = 16


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def normal_char(char: str) -> str:
    """One character as search compares it (possibly several characters, or none for whitespace)."""
    folded = unicodedata.normalize("NFKC", char)
    if not folded or folded.isspace():
        return ""
    if any(ord(c) > 0x2E7F for c in folded):  # CJK and beyond: the only characters t2s changes
        folded = _t2s().convert(folded)
    return "".join(c for c in folded.casefold() if not c.isspace())


def normalise(text: str) -> str:
    return "".join(normal_char(char) for char in text)


def normalise_with_offsets(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the character of `text` it came
    from (a hit found in the normalised text is shown in the original)."""
    out, offsets = [], []
    for index, char in enumerate(text):
        for folded in normal_char(char):
            out.append(folded)
            offsets.append(index)
    return "".join(out), offsets


# --- Lines of a stored result ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    text: str
    box: list | None
    page: int  # 1-based page of the file (PDF and TIFF have several)
    index: int  # position among the file's lines, in reading order
    confidence: float | None = None


def result_lines(json_data, raw_text: str = "") -> list[Line]:
    """The lines of a stored result in reading order: every page's details; the raw text's lines when no
    details were stored."""
    data = json_data or {}
    if isinstance(data, list):
        data = {"details": data}
    pages = data.get("pages") or [data]
    lines = []
    for number, page in enumerate(pages, 1):
        for detail in (page or {}).get("details") or []:
            if isinstance(detail, dict) and detail.get("text"):
                lines.append(Line(str(detail["text"]), detail.get("box"), number, len(lines), detail.get("confidence")))
    if not lines and raw_text:
        texts = [text for text in raw_text.splitlines() if text.strip()]
        lines = [Line(text, None, 1, index) for index, text in enumerate(texts)]
    return lines


def page_text(json_data, raw_text: str = "") -> str:
    """A stored result's normalised lines joined by "\\n" (empty lines left out)."""
    return "\n".join(line for line in (normalise(line.text) for line in result_lines(json_data, raw_text)) if line)


def gram(first: str, second: str = "") -> int:
    """One character, or a pair, as one integer: code point << 21 | code point (0 for one character)."""
    return ord(first) << 21 | (ord(second) if second else 0)


def text_grams(text: str) -> set[int]:
    """The grams of a normalised page text: every character, every pair of adjacent characters of a line."""
    grams = set()
    for line in text.split("\n"):
        grams.update(gram(char) for char in line)
        grams.update(gram(line[i], line[i + 1]) for i in range(len(line) - 1))
    return grams


def query_grams(query: str) -> list[int]:
    """The grams every page containing the normalised `query` has: the character itself, or the query's
    adjacent pairs (at most MAX_QUERY_GRAMS of them, spread over the query). For one or two characters the
    pages with the gram are exactly the pages with the query."""
    if len(query) == 1:
        return [gram(query)]
    grams = list(dict.fromkeys(gram(query[i], query[i + 1]) for i in range(len(query) - 1)))
    if len(grams) > MAX_QUERY_GRAMS:
        step = len(grams) / MAX_QUERY_GRAMS
        grams = [grams[int(i * step)] for i in range(MAX_QUERY_GRAMS)]
    return grams


# --- Hits ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    line: Line
    start: int  # the hit in line.text, as indexes of its characters
    end: int


def line_hits(lines: list[Line], query: str) -> list[Hit]:
    """The lines containing the normalised `query`, with where in each line the first occurrence is."""
    hits = []
    for line in lines:
        normal, offsets = normalise_with_offsets(line.text)
        found = normal.find(query)
        if found >= 0:
            hits.append(Hit(line, offsets[found], offsets[found + len(query) - 1] + 1))
    return hits


def snippet(hit: Hit, context: int) -> tuple[str, int, int]:
    """The hit's line cut to `context` characters each side of the hit ("…" where cut), and the hit's
    place in that snippet."""
    text = hit.line.text
    left, right = max(0, hit.start - context), min(len(text), hit.end + context)
    prefix = "…" if left > 0 else ""
    cut = prefix + text[left:right] + ("…" if right < len(text) else "")
    start = len(prefix) + hit.start - left
    return cut, start, start + hit.end - hit.start
