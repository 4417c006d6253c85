"""Exports when EXPORT_DIR's file system is full, for real: EXPORT_DIR is a small tmpfs mounted for the test
(root only; skipped where mounting is not allowed). The answer is 507 STORAGE_FULL JSON, no file (whole or
partial) is left, and the export's row says failed, never completed; the next export after space is freed
works."""

import subprocess

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from batches import services
from batches.models import BatchTask, OcrResult
from exports.models import Export
from tests.batch_support import book_dir  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
PAGES = 300
TEXT = "族" * 700  # 2.1 kB a page: the book's export is ~630 kB, the file system 256 kB


def mount(folder, options: str) -> None:
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                            text=True)
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def full_disk(tmp_path, settings):
    """EXPORT_DIR on a 256 kB tmpfs with 32 inodes; yields its path and unmounts it afterwards."""
    folder = tmp_path / "exports"
    folder.mkdir()
    mount(folder, "size=256k,nr_inodes=32")
    settings.EXPORT_DIR = folder
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def book(book_dir):
    task = services.task_create(book_id="王氏宗谱", directory=str(book_dir), auto_start=False,
                                options=services.ScanOptions.from_raw({}))
    OcrResult.objects.bulk_create([
        OcrResult(task=task, book_id=task.book_id, file_name=f"{n}.png", relative_path=f"{n}.png",
                  path_hash=services.path_hash(f"{n}.png"), sequence=n, page_number=n, status="success",
                  success=True, raw_text=TEXT, confidence=0.9) for n in range(PAGES)])
    BatchTask.objects.filter(pk=task.pk).update(total_files=PAGES, processed_files=PAGES, success_files=PAGES,
                                                status="completed")
    return task


def files_under(folder):
    return [path for path in folder.rglob("*") if path.is_file()]


def assert_storage_full(response):
    assert response.status_code == 507, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and body["error"] == "STORAGE_FULL" and body["message"]


def assert_no_export_claims_success(task):
    rows = list(Export.objects.filter(task=task).values_list("status", "error_message", "file_path"))
    assert rows and all(status == "failed" and error.startswith("STORAGE_FULL: ") and not path
                        for status, error, path in rows), rows


def test_a_disk_that_fills_while_writing_is_507_with_no_file_and_a_failed_row(full_disk, book):
    client = APIClient()
    for fmt in ("json", "csv", "txt"):
        assert_storage_full(client.post("/api/ocr/batch/export", {"task_id": book.task_id, "format": fmt},
                                        format="json"))
    assert_storage_full(client.get(f"/api/ocr/batch/download/{book.task_id}?format=csv"))
    # The command says the code too, instead of a traceback.
    with pytest.raises(CommandError, match="^STORAGE_FULL: "):
        call_command("export", book.task_id, "--format", "json")
    assert files_under(full_disk) == []
    assert_no_export_claims_success(book)

    subprocess.run(["mount", "-o", "remount,size=4m", str(full_disk)], check=True)
    response = client.post("/api/ocr/batch/export", {"task_id": book.task_id, "format": "csv"}, format="json")
    assert response.status_code == 200 and response.json()["total_pages"] == PAGES
    assert [path.suffix for path in files_under(full_disk)] == [".csv"]


def test_no_room_even_for_the_export_folder_is_507_and_no_row_left_processing(full_disk, book):
    filler = 0
    while True:  # use up the inodes: the task's export folder cannot be created
        try:
            (full_disk / f"filler-{filler}").touch()
        except OSError:
            break
        filler += 1
    response = APIClient().post("/api/ocr/batch/export", {"task_id": book.task_id, "format": "json"}, format="json")
    assert_storage_full(response)
    assert not (full_disk / book.task_id).exists()
    assert_no_export_claims_success(book)
