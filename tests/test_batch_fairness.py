"""Fairness of the dispatch window, with a real worker: a small book started while a big one runs waits at
most for the big book's window, not for its whole length; once the big book is cancelled, at most a window
of its messages is left in the queue, and the next small book waits for nothing more than those.

The big book is 300 tiny blank pages (cheap to read); the times are printed as figures, and what is asserted
is counted in pages (how many of the big book's pages ran while the small one waited), not in seconds."""

import shutil
import time

import pytest
from django.conf import settings
from PIL import Image

from batches import services
from batches.models import OcrResult
from tests.batch_support import (new_book_dir, purge_broker, queued_page_ids, task_row, wait_finished,  # noqa: F401
                                 wait_for, worker, write_page)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BIG = 300


def small_book(name: str):
    folder = new_book_dir(name)
    for page in range(1, 4):
        write_page(folder / f"{page:03d}.png", [f"第{page}页"])
    return folder


def test_a_small_book_waits_at_most_for_a_window_of_a_big_one(worker):
    purge_broker()
    big_dir, small_dirs = new_book_dir("big"), [small_book("small1"), small_book("small2")]
    try:
        Image.new("L", (32, 32), 255).save(big_dir / "000.png")
        for page in range(1, BIG):
            shutil.copyfile(big_dir / "000.png", big_dir / f"{page:03d}.png")
        options = services.ScanOptions.from_raw({})
        big = services.task_create(book_id="big", directory=str(big_dir), options=options)
        assert len(queued_page_ids()) <= settings.TASK_DISPATCH_WINDOW
        wait_for(lambda: task_row(big.task_id).processed_files >= 5, timeout=120, message="big book under way")

        # A small book while the big one runs.
        big_before = task_row(big.task_id).processed_files
        started = time.monotonic()
        small = services.task_create(book_id="small", directory=str(small_dirs[0]), options=options)
        small = wait_finished(small.task_id, timeout=120)
        waited = time.monotonic() - started
        big_meanwhile = task_row(big.task_id).processed_files - big_before
        assert task_row(big.task_id).status == "processing"  # the big book was not run to its end first
        # The big book's window queued ahead of the small book, plus the pages the worker's processes were
        # reading and had prefetched when it arrived (a few); without the window it would be the whole book.
        assert big_meanwhile <= settings.TASK_DISPATCH_WINDOW + 4

        # Cancel the big book: at most its window is left queued, and the next small book waits for those only.
        services.task_cancel(task_id=big.task_id)
        stale = len(queued_page_ids())
        assert stale <= settings.TASK_DISPATCH_WINDOW
        started = time.monotonic()
        after_cancel = services.task_create(book_id="small2", directory=str(small_dirs[1]), options=options)
        after_cancel = wait_finished(after_cancel.task_id, timeout=120)
        waited_after_cancel = time.monotonic() - started
        print(f"\nsmall book (3 pages) behind a running {BIG}-page book: {waited:.1f} s, {big_meanwhile} big pages "
              f"read meanwhile (window {settings.TASK_DISPATCH_WINDOW}); after cancelling the big book: {stale} "
              f"stale messages, next small book {waited_after_cancel:.1f} s")

        for task in (small, after_cancel):
            assert (task.status, task.processed_files, task.success_files) == ("completed", 3, 3)
            assert [r.raw_text for r in OcrResult.objects.filter(task=task).order_by("sequence")] == \
                ["第1页", "第2页", "第3页"]
        big = task_row(big.task_id)
        done = OcrResult.objects.filter(task=big, status__in=["success", "failed"]).count()
        assert big.status == "cancelled" and big.processed_files == done < BIG
        assert big.success_files + big.failed_files == done
        assert queued_page_ids() == []  # the stale messages were consumed and dropped
    finally:
        for folder in (big_dir, *small_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        purge_broker()
