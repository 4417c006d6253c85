"""Two worker processes share one book: the unit of work is a page, so both take pages of the same task,
and every page is recorded once."""

import re

import pytest

from batches import services
from batches.models import OcrResult
from tests.batch_support import book_dir, purge_broker, running_worker, wait_finished, write_page  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_two_workers_share_one_book(book_dir, tmp_path):
    purge_broker()
    for page in range(1, 13):
        write_page(book_dir / f"{page:03d}.png", [f"第{page}页"])
    with running_worker(tmp_path, "left") as left, running_worker(tmp_path, "right") as right:
        task = services.task_create(book_id="shared", directory=str(book_dir), options=services.ScanOptions.from_raw({}))
        task = wait_finished(task.task_id, timeout=180)
        # The service logs what happened to each page (the job itself returns nothing).
        done = re.compile(rf"page \S+ of task {task.task_id}: (success|failed)")
        pages_left = len(done.findall(left.output()))
        pages_right = len(done.findall(right.output()))
    assert task.status == "completed" and (task.processed_files, task.success_files) == (12, 12)
    assert pages_left >= 1 and pages_right >= 1 and pages_left + pages_right == 12
    rows = OcrResult.objects.filter(task=task).order_by("sequence")
    assert [row.raw_text for row in rows] == [f"第{page}页" for page in range(1, 13)]
    assert all(row.attempts == 1 for row in rows)
