"""The page-pipeline evaluation set of issue 9: one category per problem the service has to solve (turned
pages, multi-column pages, genealogy registers, double-line annotations, word crops on photos, single lines,
transparent PNGs, large scans, noisy scans), plus plain pages as controls.

    .venv/bin/python bench/pipeline_set.py [DIR]     # default bench/results/pipeline-set/

Writes the images and DIR/labels.jsonl, one record per image:
{"file", "category", "size_class", "width", "height", "lines": [...in reading order...], "text": "".join(lines)}.
Everything is rendered with tests/pages.py from fixed seeds, so the set is the same on every machine that has
the Debian fonts (`make test-deps`).
"""

import json
import random
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run_engines import ENGLISH, GENEALOGY, NEWS, POEMS  # noqa: E402
from tests import pages  # noqa: E402

DEFAULT_DIR = ROOT / "bench" / "results" / "pipeline-set"

# Traditional-character genealogy entries: names, courtesy names, reign-era dates, burial places.
MORE_GENEALOGY = [
    "第十八世孫國棟字棟梁", "生於道光十二年壬辰正月初八日", "娶陳氏生子二長國樑次國樞",
    "國樑字子材號梅軒邑庠生", "卒於光緒三年丁丑八月", "葬於後山坐北朝南", "配周氏生於道光十五年",
    "第十九世孫明遠字致遠", "遷居廣州府番禺縣", "咸豐元年辛亥修譜", "長房世居故里次房遷徙",
    "享壽八十有三無疾而終", "繼配林氏撫育前子如己出", "同治七年戊辰建宗祠",
]
GENEALOGY_POOL = GENEALOGY + MORE_GENEALOGY
LATIN_WORDS = ["OPEN", "EXIT", "Library", "Tea", "SALE", "Hotel", "No.8", "Bus 42"]
CJK_WORDS = ["族", "你好", "上海", "图书馆", "出口", "祠堂", "南京路", "家谱", "文華", "欢迎光临"]

SIZE_CLASSES = ["word_line", "screenshot", "page", "large"]


def size_class(width: int, height: int) -> str:
    """word_line: max side under 640 px or line-shaped (one side 4× the other); screenshot: under 1 MP;
    page: 1 to 8 MP; large: 8 MP and more."""
    pixels = width * height
    if max(width, height) < 640 or max(width, height) >= 4 * min(width, height):
        return "word_line"
    if pixels >= 8_000_000:
        return "large"
    return "page" if pixels >= 1_000_000 else "screenshot"


def chunk_chinese(sentences: list[str], length: int) -> list[str]:
    """Sentences run together and cut every `length` characters: lines of one column width."""
    text = "".join(sentences)
    return [text[i:i + length] for i in range(0, len(text), length)]


def chunk_english(sentences: list[str], width: int) -> list[str]:
    return textwrap.wrap(" ".join(sentences), width)


def split_evenly(lines: list[str], parts: int) -> list[list[str]]:
    """Lines in `parts` columns, the first columns one line longer when they do not divide evenly."""
    size = -(-len(lines) // parts)
    return [lines[i:i + size] for i in range(0, len(lines), size)]


def column_cut(line: str, length: int) -> list[str]:
    return [line[i:i + length] for i in range(0, len(line), length)]


def register_page(rng: random.Random, count: int, face: str, size: int):
    """A genealogy page of `count` registers (上下栏), three entries each cut into columns of 8 characters."""
    registers = [[part for line in rng.sample(GENEALOGY_POOL, 3) for part in column_cut(line, 8)]
                 for _ in range(count)]
    return pages.render_vertical_registers(registers, face=face, size=size)


def annotated_page(rng: random.Random, face: str, size: int):
    """Five genealogy columns, most ending in a double-line annotation (双行小注) split over its two lines."""
    columns = []
    for line in rng.sample(GENEALOGY_POOL, 5):
        if rng.random() < 0.6:
            note = rng.choice(MORE_GENEALOGY)
            half = (len(note) + 1) // 2
            columns.append((line[:7], note[:half], note[half:]))
        else:
            columns.append((line, None, None))
    return pages.render_vertical_annotated(columns, face=face, size=size)


class SetWriter:
    """Saves images under a directory and collects their label records."""

    def __init__(self, out: Path):
        self.out = out
        self.records: list[dict] = []
        out.mkdir(parents=True, exist_ok=True)

    def save(self, name: str, category: str, image, lines: list[str], fmt: str = "PNG", **options) -> None:
        file = f"{name}.{'jpg' if fmt == 'JPEG' else 'png'}"
        image.save(self.out / file, fmt, **options)
        self.records.append({"file": file, "category": category, "size_class": size_class(*image.size),
                             "width": image.width, "height": image.height, "lines": lines, "text": "".join(lines)})

    def write_labels(self) -> Path:
        with open(self.out / "labels.jsonl", "w", encoding="utf-8") as handle:
            for record in self.records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return self.out


def upright_pages(rng: random.Random) -> list[tuple]:
    """(kind, image, lines) of a Chinese page, an English page, a vertical genealogy page (screenshot-sized)
    and a page-sized (about 1.5 MP) Chinese page."""
    zh = rng.sample(NEWS, 6)
    en = rng.sample(ENGLISH, 5)
    columns = rng.sample(GENEALOGY_POOL, 7)
    big = rng.sample(NEWS, 5) + rng.sample(POEMS, 3)
    return [("zh", pages.render_lines(zh, face="serif", size=30, margin=50), zh),
            ("en", pages.render_lines(en, face="latin", size=28, margin=50), en),
            ("vertical", pages.render_vertical_rl(columns, face="kai", size=44, margin=50), columns),
            ("zh_page", pages.render_lines(big, face="sans", size=56, margin=80), big)]


def add_controls(writer: SetWriter, rng: random.Random) -> None:
    """Plain pages; the third of each is page-sized (1–2 MP), the others screenshot-sized."""
    faces = ["sans", "serif", "kai"]
    for n in range(3):
        doc = rng.sample(NEWS, 6) + rng.sample(POEMS, 2)
        writer.save(f"doc_zh_{n}", "doc_zh", pages.render_lines(doc, face=faces[n], size=(28, 36, 56)[n]), doc)
        en = rng.sample(ENGLISH, 6)
        writer.save(f"en_{n}", "en", pages.render_lines(en, face="latin", size=(26, 32, 52)[n]), en)
        columns = rng.sample(GENEALOGY_POOL, 8)
        page = pages.render_vertical_rl(columns, face=("kai", "ming")[n % 2], size=(36, 44, 72)[n], ruled=n == 1)
        writer.save(f"vertical_{n}", "vertical", page, columns)


def add_rotations(writer: SetWriter, rng: random.Random) -> None:
    for degrees in (90, 270, 180):
        for kind, image, lines in upright_pages(rng):
            writer.save(f"rot{degrees}_{kind}", f"rot{degrees}", pages.rotate_page(image, degrees), lines)


def add_columns(writer: SetWriter, rng: random.Random) -> None:
    """Chinese and English, 2 and 3 columns, a spanning heading on each and a footer on one of each count."""
    headings_zh = ["古城遗址考古新发现", "本市公共服务简报"]
    headings_en = ["Library Newsletter", "Notes from the Archive"]
    for count in (2, 3):
        category = f"columns{count}"
        zh_lines = chunk_chinese(rng.sample(NEWS, 2 * count + 1), 13 if count == 2 else 11)
        footer = "图一：本期要闻摘要，编辑部整理供稿" if count == 2 else None
        image, lines = pages.render_columns(split_evenly(zh_lines, count), headings_zh[count - 2], footer,
                                            face="serif", size=30)
        writer.save(f"{category}_zh", category, image, lines)
        en_lines = chunk_english(rng.sample(ENGLISH, 2 * count), 30 if count == 2 else 24)
        footer = None if count == 2 else "Figure 1. Visitors to the reading rooms by month."
        image, lines = pages.render_columns(split_evenly(en_lines, count), headings_en[count - 2], footer,
                                            face="latin", size=26)
        writer.save(f"{category}_en", category, image, lines)
        zh_lines = chunk_chinese(rng.sample(NEWS + POEMS, 3 * count), 12)
        image, lines = pages.render_columns(split_evenly(zh_lines, count), "地方文献整理", "（完）",
                                            face="sans", size=48, gutter_em=1.5)
        writer.save(f"{category}_zh_footer", category, image, lines)


def add_registers(writer: SetWriter, rng: random.Random) -> None:
    for n, count in enumerate((2, 2, 3, 3)):
        image, lines = register_page(rng, count, face=("kai", "ming")[n % 2], size=(36, 56)[n % 2])
        writer.save(f"registers{count}_{n}", "registers", image, lines)


def add_annotated(writer: SetWriter, rng: random.Random) -> None:
    for n in range(4):
        image, lines = annotated_page(rng, face=("kai", "ming")[n % 2], size=(48, 64)[n % 2])
        writer.save(f"annotated_{n}", "annotated", image, lines)


def add_word_crops(writer: SetWriter, rng: random.Random) -> None:
    heights = [20, 28, 36, 48, 64, 80, 100]
    kinds = ["photo", "photo", "gradient", "paper"]
    for n, word in enumerate(CJK_WORDS + rng.sample(LATIN_WORDS, 2)):
        image, lines = pages.render_word_crop(word, heights[n % len(heights)], kinds[n % len(kinds)], seed=n)
        writer.save(f"word_crop_{n}", "word_crop", image, lines)


def add_single_lines(writer: SetWriter, rng: random.Random) -> None:
    image, lines = pages.render_single_line("Hello world!你好世界", 32, width=256)
    writer.save("single_line_hello", "single_line", image, lines)
    for n, (text, face, height) in enumerate([(rng.choice(NEWS), "sans", 48), (rng.choice(ENGLISH), "latin", 40),
                                              (rng.choice(GENEALOGY_POOL), "kai", 64), (rng.choice(POEMS), "serif", 36)]):
        image, lines = pages.render_single_line(text, height, face)
        writer.save(f"single_line_{n}", "single_line", image, lines)
    # One classical column of ten 150-px characters: a tall narrow image (about 265×1600).
    column = GENEALOGY_POOL[0][:10]
    writer.save("single_line_column", "single_line",
                pages.render_vertical_rl([column], face="kai", size=150, margin=20, column_gap=0.5), [column])


def add_transparent(writer: SetWriter, rng: random.Random) -> None:
    image, lines = pages.render_transparent_text(rng.sample(NEWS, 3), size=36)
    writer.save("transparent_white_zh", "transparent", image, lines)
    image, lines = pages.render_transparent_text(rng.sample(ENGLISH, 3), face="latin", size=30)
    writer.save("transparent_white_en", "transparent", image, lines)
    image, lines = pages.render_transparent_text(rng.sample(NEWS, 3), size=40, color=(20, 20, 60))
    writer.save("transparent_dark_zh", "transparent", image, lines)


def add_large_scans(writer: SetWriter, rng: random.Random) -> None:
    """Two 6000×8000 sheets, 25 lines each, saved as JPEG quality 85 as a scanner would."""
    zh_blocks = [chunk_chinese(rng.sample(NEWS, 6), 26)[:5] for _ in range(5)]
    image, lines = pages.render_large_scan(zh_blocks, face="serif", size=38, seed=1)
    writer.save("large_scan_zh", "large_scan", image, lines, "JPEG", quality=85)
    en_blocks = [chunk_english(rng.sample(ENGLISH, 6), 60)[:5] for _ in range(5)]
    image, lines = pages.render_large_scan(en_blocks, face="latin", size=36, seed=2)
    writer.save("large_scan_en", "large_scan", image, lines, "JPEG", quality=85)


def add_noisy_scans(writer: SetWriter, rng: random.Random) -> None:
    for n in range(4):
        if n % 2:
            lines = rng.sample(GENEALOGY_POOL, 6)
            page = pages.render_vertical_rl(lines, face="kai", size=40, margin=50)
        else:
            lines = rng.sample(NEWS, 5)
            page = pages.render_lines(lines, face=("sans", "serif")[n // 2], size=30, margin=50)
        writer.save(f"noisy_scan_{n}", "noisy_scan", pages.scanned(page, seed=n, angle=(1.5, -1.0, 2.0, -2.0)[n]),
                    lines, "JPEG", quality=60)


BUILDERS = [add_controls, add_rotations, add_columns, add_registers, add_annotated, add_word_crops,
            add_single_lines, add_transparent, add_large_scans, add_noisy_scans]


def generate(out: Path = DEFAULT_DIR) -> Path:
    """Renders the whole set into `out`; each category has its own seed, so adding one changes no other."""
    writer = SetWriter(out)
    for number, builder in enumerate(BUILDERS):
        builder(writer, random.Random(900 + number))
    return writer.write_labels()


def load_labels(directory: Path) -> list[dict]:
    lines = (directory / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


if __name__ == "__main__":
    target = generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
    records = load_labels(target)
    print(f"{len(records)} images in {target}")
