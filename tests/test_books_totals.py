"""A book's totals add up its scans (a rescan of the same files counts them once), and a book goes with its
last task."""

import pytest

from batches import services
from books.models import Book
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db


def scan(root, folder):
    return services.task_create(book_id="孙氏族谱", directory=str(root / folder), options=services.ScanOptions(),
                                auto_start=False)


def test_totals_add_up_the_scans_of_a_book_and_the_book_goes_with_its_last_task(tmp_path, settings):
    root = tmp_path / "scans"
    for folder, count in (("卷一", 10), ("卷二", 4)):
        (root / folder).mkdir(parents=True)
        for number in range(1, count + 1):
            (root / folder / f"{folder}_{number:03d}.png").write_bytes(encode(render_lines(["孙"], size=24)))
    settings.SCAN_ROOTS = [root.resolve()]
    first = scan(root, "卷一")
    assert (Book.objects.get().total_pages, Book.objects.get().total_volumes) == (10, 1)
    second = scan(root, "卷二")  # a smaller scan of the same book no longer overwrites the first's count
    assert (Book.objects.get().total_pages, Book.objects.get().total_volumes) == (14, 2)
    services.task_cancel(task_id=first.task_id)
    rescan = scan(root, "卷一")  # the same files again: counted once
    assert Book.objects.get().total_pages == 14
    services.task_delete(task_id=second.task_id)
    assert (Book.objects.get().total_pages, Book.objects.get().total_volumes) == (10, 1)
    services.task_delete(task_id=first.task_id)
    services.task_delete(task_id=rescan.task_id)
    assert not Book.objects.exists()
