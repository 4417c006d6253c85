"""Scanning trees with odd names, on real files: names that are not UTF-8 (GBK names from zips made on
Chinese Windows), relative paths longer than the relative_path column, symlink loops. Such files become
failed pages with a coded error; the rest of the directory is listed and read normally, never a 500."""

import os

import pytest
from rest_framework.test import APIClient

from batches import services
from batches.models import BatchTask, OcrResult
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

URL = "/api/ocr/batch/scan"
MAX_PATH = OcrResult._meta.get_field("relative_path").max_length
GBK_NAME = "李氏族谱".encode("gbk") + b".png"  # b'\xc0\xee\xca\xcf\xd7\xe5\xc6\xd7.png': not UTF-8
GBK_FOLDER = "卷二".encode("gbk")


@pytest.fixture
def client():
    return APIClient()


def scan(client, directory, **body):
    return client.post(URL, {"book_id": "李氏族谱", "directory": str(directory), "auto_start": False, **body},
                       format="json")


def rows(task_id):
    return {row["relative_path"]: row for row in
            OcrResult.objects.filter(task_id=task_id).order_by("sequence").values()}


def assert_stored_in_utf8mb4(task_id):
    """Every row was written and read back from MariaDB: a lone surrogate would not have been."""
    for row in OcrResult.objects.filter(task_id=task_id).values("relative_path", "file_name", "path_hash"):
        row["relative_path"].encode("utf-8")
        row["file_name"].encode("utf-8")
        assert len(row["relative_path"]) <= MAX_PATH


def test_names_that_are_not_utf8_are_failed_pages_and_the_rest_is_scanned_and_read(client, book_dir):
    write_page(book_dir / "001.png", ["第1页"])
    # Symlink loops next to them are skipped: a folder linking to itself or its parent, files linking in circles.
    (book_dir / "loop").symlink_to(".")
    (book_dir / "sub").mkdir()
    (book_dir / "sub" / "up").symlink_to("..")
    (book_dir / "self.png").symlink_to("self.png")
    (book_dir / "a.png").symlink_to("b.png")
    (book_dir / "b.png").symlink_to("a.png")
    raw_dir = os.fsencode(book_dir)
    with open(os.path.join(raw_dir, GBK_NAME), "wb") as handle:
        handle.write((book_dir / "001.png").read_bytes())
    os.mkdir(os.path.join(raw_dir, GBK_FOLDER))
    with open(os.path.join(raw_dir, GBK_FOLDER, b"002.png"), "wb") as handle:
        handle.write(b"x")

    response = scan(client, book_dir)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True and body["total_files"] == 3
    task_id = body["task_id"]
    assert_stored_in_utf8mb4(task_id)
    pages = rows(task_id)
    escaped_file = GBK_NAME.decode("utf-8", "backslashreplace")
    escaped_folder = GBK_FOLDER.decode("utf-8", "backslashreplace") + "/002.png"
    assert set(pages) == {"001.png", escaped_file, escaped_folder}
    for path in (escaped_file, escaped_folder):
        assert pages[path]["status"] == "failed" and pages[path]["success"] is False
        assert pages[path]["error_message"].startswith("INVALID_FILE_NAME: ")
    # The GBK reading is offered, so that the operator knows which page to rename.
    assert "李氏族谱.png" in pages[escaped_file]["error_message"]
    assert pages["001.png"]["status"] == "pending"
    # The unique key is the name's bytes on disk.
    assert pages[escaped_file]["path_hash"] == services.path_hash(os.fsdecode(GBK_NAME))

    status = client.get(f"/api/ocr/batch/status/{task_id}")
    assert status.status_code == 200 and status.json()["failed_files"] == 2

    services.task_start(task_id=task_id, send=False)
    task = services.task_run_inline(task_id=task_id)
    assert (task.status, task.total_files, task.success_files, task.failed_files) == ("completed", 3, 1, 2)
    assert OcrResult.objects.get(task_id=task_id, relative_path="001.png").raw_text == "第1页"


def test_a_retry_never_opens_the_file_the_escaped_name_happens_to_name(client, book_dir):
    # A real file literally named like the escaped form of a GBK name: two rows, one path, two hashes.
    escaped = GBK_NAME.decode("utf-8", "backslashreplace")
    write_page(book_dir / escaped, ["第9页"])
    with open(os.path.join(os.fsencode(book_dir), GBK_NAME), "wb") as handle:
        handle.write(b"x")
    body = scan(client, book_dir).json()
    task_id = body["task_id"]
    assert body["total_files"] == 2
    both = list(OcrResult.objects.filter(task_id=task_id, relative_path=escaped).values_list("status", "path_hash"))
    assert sorted(status for status, _ in both) == ["failed", "pending"] and both[0][1] != both[1][1]

    services.task_start(task_id=task_id, send=False)
    services.task_run_inline(task_id=task_id)
    services.task_retry(task_id=task_id, send=False)
    task = services.task_run_inline(task_id=task_id)
    assert (task.status, task.success_files, task.failed_files) == ("completed", 1, 1)
    failed = OcrResult.objects.get(task_id=task_id, status="failed")
    assert failed.attempts == 1 and failed.error_message.startswith("INVALID_FILE_NAME: ")
    assert failed.raw_text == "" and failed.content_hash == ""


def test_relative_paths_over_the_column_length_are_failed_pages_unique_per_file(client, book_dir):
    # Two folders whose paths differ only at the start, so that their shortened forms could collide.
    deep = "/".join(["卷" + "长" * 80] + ["x" * 250] * 4)
    assert len(f"a/{deep}/1.png") > MAX_PATH
    for top in ("a", "b"):
        (book_dir / top / deep).mkdir(parents=True)
        (book_dir / top / deep / "1.png").write_bytes(b"x")
    write_page(book_dir / "001.png", ["第1页"])

    response = scan(client, book_dir)
    assert response.status_code == 201, response.content
    task_id = response.json()["task_id"]
    assert_stored_in_utf8mb4(task_id)
    failed = list(OcrResult.objects.filter(task_id=task_id, status="failed").values())
    assert len(failed) == 2 and failed[0]["path_hash"] != failed[1]["path_hash"]
    for row in failed:
        assert row["error_message"].startswith("PATH_TOO_LONG: ")
        assert len(row["relative_path"]) == MAX_PATH and row["relative_path"].endswith("/1.png")
        assert row["file_name"] == "1.png"
    assert OcrResult.objects.get(task_id=task_id, relative_path="001.png").status == "pending"
    task = BatchTask.objects.get(task_id=task_id)
    assert (task.total_files, task.processed_files, task.failed_files) == (3, 2, 2)


def assert_coded_400(response, code):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False and body["error"] == code and body["message"]


def test_directories_that_cannot_be_resolved_or_stored_are_coded_400s(client, book_dir):
    (book_dir / "loop").symlink_to("loop")
    assert_coded_400(scan(client, book_dir / "loop"), "PATH_NOT_ALLOWED")
    # A directory whose name MariaDB cannot store as source_directory, named through a symlink (JSON escapes
    # of lone surrogates are refused by the serializer already).
    os.mkdir(os.path.join(os.fsencode(book_dir), GBK_FOLDER))
    with open(os.path.join(os.fsencode(book_dir), GBK_FOLDER, b"1.png"), "wb") as handle:
        handle.write(b"x")
    (book_dir / "link").symlink_to(os.fsdecode(GBK_FOLDER))
    assert_coded_400(scan(client, book_dir / "link"), "INVALID_FILE_NAME")
    # A name over 255 bytes: the OS answers ENAMETOOLONG.
    assert_coded_400(scan(client, book_dir / ("x" * 300)), "PATH_TOO_LONG")
    deep = book_dir.joinpath(*["d" * 200] * 5)
    deep.mkdir(parents=True)
    (deep / "1.png").write_bytes(b"x")
    assert len(str(deep)) > BatchTask._meta.get_field("source_directory").max_length
    (book_dir / "deep").symlink_to(deep)  # the serializer refuses a longer `directory` itself
    assert_coded_400(scan(client, book_dir / "deep"), "PATH_TOO_LONG")
    assert not BatchTask.objects.filter(book_id="李氏族谱").exists()
