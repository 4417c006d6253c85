"""The listing of a scan as a job: POST /batch/scan answers at once with the task `scanning`, the
`batches.list_task_files` job (a real worker) lists the tree into pages in book order, and the task moves on
to pending or queued. Cancel stops a listing at its next chunk; a listing that dies half-way is run again
(by hand, a retry, or the sweeper) and gives every file exactly once.

The settings fixture sets TASK_SCAN_INLINE_FILES=0 in this process (the one that creates the tasks), so that
even these small trees are listed by the job."""

import json
import os
import random
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from batches import services
from batches.filenames import book_order_bytes, book_order_key, parse_position, sort_book_order
from batches.models import BatchTask, OcrResult
from batches.services import listing, recovery
from exports.services import export_create
from tests.batch_support import (book_dir, clean_broker, make_two_volume_book, task_row,  # noqa: F401
                                 wait_finished, wait_for, worker)
from tests.test_batch_embedded import embedded, field, manage  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job_listing(settings):
    settings.TASK_SCAN_INLINE_FILES = 0


@pytest.fixture
def client():
    return APIClient()


def touch(folder, names):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")


def shuffled_book(count: int) -> list[str]:
    """count names over three volume folders and flat files, in a shuffled order."""
    names = [f"卷{'一二三'[n % 3]}/{n}.png" if n % 4 else f"v{n % 3}_p{n:05d}.jpg" for n in range(count)]
    random.Random(count).shuffle(names)
    return names


def rows_in_sequence(task_id: str) -> list[tuple[int, str]]:
    return list(OcrResult.objects.filter(task_id=task_id).order_by("sequence").values_list("sequence", "relative_path"))


def assert_every_file_once_in_book_order(task_id: str, names: list[str]) -> None:
    rows = rows_in_sequence(task_id)
    assert [sequence for sequence, _ in rows] == list(range(len(names)))
    assert [path for _, path in rows] == [name for name, _ in sort_book_order(names)]


def test_book_order_bytes_sort_as_book_order_keys():
    names = shuffled_book(500) + [
        "001.jpg", "1.jpg", "01.jpg", "a.png", "A2.png", "a10.png", "卷二/第十二页.png", "2024族谱_005.jpg",
        "第三卷第2张.png", "x.png", "x0.png", "x00.png", "volume2_page003.png", "卷1-5.png", "卷1-5a.png",
        "卷1-5-1.png", "ß.png", "SS.png", "页.png", "z/1.png", "z1.png"]
    by_key = sorted(names, key=book_order_key)
    by_bytes = sorted(names, key=lambda name: book_order_bytes(name, parse_position(name)))
    assert by_bytes == by_key


def test_a_scan_is_accepted_scanning_and_the_worker_lists_it_in_book_order(worker, book_dir, job_listing, client,
                                                                            clean_broker):
    expected = make_two_volume_book(book_dir, pages_per_volume=2)
    odd = os.fsdecode("卷三".encode("gbk") + b"/001.png")  # not UTF-8: its row is failed at once
    touch(book_dir, [odd])
    response = client.post("/api/ocr/batch/scan", {"book_id": "王氏族谱", "directory": str(book_dir),
                                                   "auto_start": False}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["total_files"]) == ("scanning", 0) and "正在列出文件" in body["message"]

    task = wait_for(lambda: (lambda t: t if t.status != "scanning" else None)(task_row(body["task_id"])),
                    timeout=60, message="listing")
    assert (task.status, task.total_files, task.failed_files, task.listing_done) == ("pending", 5, 1, True)
    failed = OcrResult.objects.get(task=task, status="failed")
    assert failed.error_message.startswith("INVALID_FILE_NAME") and failed.relative_path.startswith("\\x")
    assert [path for _, path in rows_in_sequence(task.task_id)] == [failed.relative_path] + [e[0] for e in expected]
    assert task.book.total_pages == 5

    assert client.post(f"/api/ocr/batch/start/{task.task_id}").status_code == 200
    task = wait_finished(task.task_id, timeout=120)
    assert (task.status, task.success_files, task.failed_files) == ("completed", 4, 1)
    export = export_create(task=task, export_format="json")
    pages = json.loads(open(export.file_path, encoding="utf-8").read())["pages"]
    assert [page["raw_text"] for page in pages[1:]] == [e[3] for e in expected]


def test_the_scan_command_follows_the_listing_job_to_the_end(worker, book_dir, job_listing, capsys, clean_broker):
    make_two_volume_book(book_dir, pages_per_volume=1)
    call_command("scan", "陈氏族谱", str(book_dir), "--timeout", "120", "--interval", "0.2")  # exit status 0
    out = capsys.readouterr().out
    assert "total_files=0" in out  # answered while scanning
    assert "status=completed processed=2 success=2 failed=0" in out


def test_cancel_during_scanning_stops_the_listing_at_the_next_chunk_and_retry_resumes_it(book_dir, client,
                                                                                       clean_broker):
    names = shuffled_book(listing.CHUNK + 300)
    touch(book_dir, names)
    task = services.task_create(book_id="b", directory=str(book_dir), options=services.ScanOptions(), send=False)
    assert task.status == "scanning"
    answers = []

    def cancel_after_the_first_chunk(listed, written):
        answers.append((listed, written, client.post(f"/api/ocr/batch/cancel/{task.task_id}").json()["status"]))

    stopped = services.task_list_files(task_id=task.task_id, on_progress=cancel_after_the_first_chunk)
    assert answers == [(listing.CHUNK, 0, "cancelled")]  # stopped at the next chunk: no row written
    assert stopped.status == "cancelled" and not stopped.listing_done
    assert not OcrResult.objects.filter(task=task).exists()

    # A retry lists the directory again: the job it sends is run here by hand (a module's worker, when one
    # runs, may take the listing over: then the task leaves `scanning` by its run).
    retried = client.post(f"/api/ocr/batch/retry/{task.task_id}").json()
    assert retried["status"] == "scanning"
    assert client.get(f"/api/ocr/batch/status/{task.task_id}").json()["status"] == "scanning"
    services.task_list_files(task_id=task.task_id)
    task = wait_for(lambda: (lambda t: t if t.status != "scanning" else None)(task_row(task.task_id)), timeout=60,
                    message="the listing")
    assert task.status in ("queued", "processing", "completed") and task.total_files == len(names)
    assert_every_file_once_in_book_order(task.task_id, names)


def test_a_listing_that_dies_half_way_is_run_again_and_gives_every_file_once(book_dir, clean_broker):
    names = shuffled_book(2 * listing.CHUNK + 50)
    touch(book_dir, names)
    task = services.task_create(book_id="b", directory=str(book_dir), options=services.ScanOptions(),
                                auto_start=False, send=False)

    class Killed(BaseException):
        """The process dies once a chunk of rows is on record."""

    def die(listed, written):
        if written:
            raise Killed

    with pytest.raises(Killed):
        services.task_list_files(task_id=task.task_id, on_progress=die)
    assert task_row(task.task_id).status == "scanning"
    assert OcrResult.objects.filter(task=task).count() == listing.CHUNK

    task = services.task_list_files(task_id=task.task_id)
    assert (task.status, task.total_files) == ("pending", len(names))
    assert_every_file_once_in_book_order(task.task_id, names)
    # A late duplicate of the job finds the task listed and leaves it alone.
    assert services.task_list_files(task_id=task.task_id).status == "pending"
    assert OcrResult.objects.filter(task=task).count() == len(names)


def test_a_second_run_takes_the_listing_over_and_the_first_stops_at_its_next_chunk(book_dir, clean_broker):
    names = shuffled_book(2 * listing.CHUNK + 10)
    touch(book_dir, names)
    task = services.task_create(book_id="b", directory=str(book_dir), options=services.ScanOptions(),
                                auto_start=False, send=False)
    second = []

    def run_again_meanwhile(listed, written):  # the sweeper's copy of a job thought lost
        if written and not second:
            second.append(services.task_list_files(task_id=task.task_id, run="second"))

    first = services.task_list_files(task_id=task.task_id, run="first", on_progress=run_again_meanwhile)
    assert (second[0].status, second[0].celery_task_id) == ("pending", "second")
    assert first.status == "pending"  # what the second run made of it
    assert_every_file_once_in_book_order(task.task_id, names)


def test_the_sweeper_sends_a_stalled_listing_again(worker, book_dir, clean_broker):
    touch(book_dir, ["1.png", "2.png"])
    task = services.task_create(book_id="b", directory=str(book_dir), options=services.ScanOptions(),
                                auto_start=False, send=False)  # as if its job had been lost
    BatchTask.objects.filter(pk=task.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    cache.delete(recovery.SWEEP_LOCK)
    services.sweep()
    task = wait_for(lambda: (lambda t: t if t.status == "pending" else None)(task_row(task.task_id)), timeout=60,
                    message="the listing sent again")
    assert task.total_files == 2


def test_broker_down_when_the_listing_is_sent_fails_the_task_with_503(book_dir, job_listing, client, monkeypatch):
    from kombu.exceptions import OperationalError

    from ocrsite.celery import app

    touch(book_dir, ["1.png"])

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", down)
    response = client.post("/api/ocr/batch/scan", {"book_id": "b", "directory": str(book_dir)}, format="json")
    assert response.status_code == 503 and response.json()["error"] == "BROKER_UNAVAILABLE"
    task = BatchTask.objects.get()
    assert task.status == "failed" and task.error_message.startswith("BROKER_UNAVAILABLE")
    assert task.active_fingerprint is None  # the same scan may be made again


@pytest.mark.slow
def test_embedded_mode_lists_by_the_job_on_the_embedded_worker(embedded, tmp_path):  # noqa: F811
    from tests.batch_support import Worker

    make_two_volume_book(tmp_path / "scans" / "book", pages_per_volume=1)
    env = {**embedded, "TASK_SCAN_INLINE_FILES": "0"}
    worker_process = Worker(env, tmp_path / "worker.log", "embedded").wait_ready()
    try:
        scan = manage(env, "scan", "李氏族谱", "book", "--timeout", "180", "--interval", "0.3")
    finally:
        worker_process.stop()
    assert scan.returncode == 0, scan.stdout + scan.stderr[-3000:]
    assert field(scan.stdout, "total_files") == "0"  # answered while scanning, listed by the worker
    assert "status=completed processed=2 success=2 failed=0" in scan.stdout
    assert "batches.list_task_files" in worker_process.output()
