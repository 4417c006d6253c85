"""A book for the document export tests (searchable PDF, hOCR, ALTO): real pages rendered with the CJK fonts
and read by the engine in-process (task_run_inline, what a worker does), so that the documents carry what
the pipeline stores, boxes and reading order included.

    卷一/001.png  horizontal lines, Chinese and Latin
    卷一/002.png  vertical columns, read right to left
    卷一/003.png  not an image: a failed page
    卷二/001.tif  two pages in one TIFF
"""

import io
from pathlib import Path

from PIL import Image

from batches import services
from batches.models import BatchTask
from tests.pages import encode, render_lines, render_vertical_rl

HORIZONTAL = ["李氏族谱第一卷", "Hello PaddleOCR 2024"]
COLUMNS = ["李氏族谱卷一", "始祖德明公", "生三子"]  # the right-hand column first
TIFF_PAGES = [["第二卷第一页"], ["第二卷第二页"]]
# The book's pages in book order, as the documents hold them: (relative path, page in the file, lines).
BOOK_PAGES = [("卷一/001.png", None, HORIZONTAL), ("卷一/002.png", None, COLUMNS), ("卷一/003.png", None, []),
              ("卷二/001.tif", 1, TIFF_PAGES[0]), ("卷二/001.tif", 2, TIFF_PAGES[1])]


def write_book(folder: Path) -> None:
    (folder / "卷一").mkdir(parents=True, exist_ok=True)
    (folder / "卷二").mkdir(parents=True, exist_ok=True)
    (folder / "卷一" / "001.png").write_bytes(encode(render_lines(HORIZONTAL, size=30, margin=30)))
    (folder / "卷一" / "002.png").write_bytes(encode(render_vertical_rl(COLUMNS, size=36, margin=40)))
    (folder / "卷一" / "003.png").write_bytes(b"not an image")
    first, second = (render_lines(lines, size=30, margin=30) for lines in TIFF_PAGES)
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[second])
    (folder / "卷二" / "001.tif").write_bytes(buffer.getvalue())


def read_book(folder: Path, book_id: str = "李氏族谱") -> BatchTask:
    """The book written and read: a finished task."""
    write_book(folder)
    task = services.task_create(book_id=book_id, directory=str(folder), options=services.ScanOptions.from_raw({}))
    return services.task_run_inline(task_id=task.task_id)


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size
