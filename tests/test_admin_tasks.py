"""The Django admin of books, tasks, results and exports, and its task actions, driven through the admin
itself (the test client posting the changelist's action form)."""

import pytest
from django.contrib.messages import get_messages

from batches import services
from batches.models import BatchTask, OcrResult
from books.models import Book
from exports.models import Export
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/batches/batchtask/"


@pytest.fixture
def scan_root(tmp_path, settings):
    root = tmp_path / "scans"
    for book in ("张氏家谱", "王氏宗谱"):
        (root / book).mkdir(parents=True)
        for number, line in enumerate(["家谱序言", "世系图"], 1):
            (root / book / f"p{number:03d}.png").write_bytes(encode(render_lines([line], size=32, margin=20)))
    settings.SCAN_ROOTS = [root.resolve()]
    settings.EXPORT_DIR = tmp_path / "exports"
    return root.resolve()


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-12345678"))
    return client


def create(root, book, run=False) -> BatchTask:
    task = services.task_create(book_id=book, directory=str(root / book), options=services.ScanOptions(),
                                auto_start=False)
    if run:
        services.task_start(task_id=task.task_id, send=False)
        task = services.task_run_inline(task_id=task.task_id)
    return task


def act(client, action, *tasks):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [t.pk for t in tasks]})
    assert response.status_code == 302, response.content.decode()[:2000]
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_changelist_columns_filters_and_date_hierarchy(admin, scan_root):
    done = create(scan_root, "张氏家谱", run=True)
    create(scan_root, "王氏宗谱")
    html = admin.get(CHANGELIST).content.decode()
    for heading in ("进度", "已处理/总数", "用时", "页/秒"):
        assert heading in html
    assert "ocr-progress" in html and "100.0%" in html and "2/2" in html
    assert 'id="changelist-filter"' in html  # the filters
    from core.admin_support import time_zones_loaded

    # The date hierarchy (needs the database's time zone tables on MariaDB: `make services` loads them).
    assert ('class="toplinks"' in html) == time_zones_loaded()
    completed = admin.get(CHANGELIST + "?status__exact=completed").content.decode()
    assert done.task_id[:8] in completed and "王氏宗谱" not in completed


@pytest.mark.parametrize("query, expect", [("王氏宗谱", "王氏宗谱"), ("p002.png", None), ("世系图", "张氏家谱")])
def test_search_by_book_file_name_and_text(admin, scan_root, query, expect):
    first = create(scan_root, "张氏家谱", run=True)
    second = create(scan_root, "王氏宗谱")
    html = admin.get(CHANGELIST, {"q": query}).content.decode()
    if expect == "王氏宗谱":
        assert second.task_id[:8] in html and first.task_id[:8] not in html
    elif expect == "张氏家谱":  # recognised text: only the task that was run has it
        assert first.task_id[:8] in html and second.task_id[:8] not in html
    else:
        assert first.task_id[:8] in html and second.task_id[:8] in html
    results = admin.get("/admin/batches/ocrresult/", {"q": "世系图"}).content.decode()
    assert "p002.png" in results and "p001.png" not in results


def test_task_change_page_has_results_inline_with_page_links(admin, scan_root):
    task = create(scan_root, "张氏家谱", run=True)
    html = admin.get(f"{CHANGELIST}{task.pk}/change/").content.decode()
    for result in OcrResult.objects.filter(task=task):
        assert f"/batch/tasks/{task.task_id}/pages/{result.page_id}" in html
    assert "页/秒" in html and "预计剩余" in html and f"/batch/tasks/{task.task_id}" in html
    assert 'name="_save"' not in html  # read-only: changes go through the actions


def test_cancel_action_reports_and_refuses_finished(admin, scan_root):
    running = create(scan_root, "张氏家谱")
    services.task_start(task_id=running.task_id, send=False)
    finished = create(scan_root, "王氏宗谱", run=True)
    notes = act(admin, "cancel_tasks", running, finished)
    assert any("已取消 1 个任务" in note and running.task_id[:8] in note for note in notes)
    assert any("1 个任务无法取消" in note and finished.task_id[:8] in note for note in notes)
    assert BatchTask.objects.get(pk=running.pk).status == "cancelled"
    assert BatchTask.objects.get(pk=finished.pk).status == "completed"


def test_retry_action_reruns_only_failed_pages(admin, scan_root):
    task = create(scan_root, "张氏家谱", run=True)
    failed = OcrResult.objects.filter(task=task).order_by("sequence").last()
    OcrResult.objects.filter(pk=failed.pk).update(status="failed", success=False, error_message="boom")
    BatchTask.objects.filter(pk=task.pk).update(success_files=1, failed_files=1)
    notes = act(admin, "retry_failed_pages", task)
    assert any("重新识别 1 页" in note for note in notes)
    assert BatchTask.objects.get(pk=task.pk).status == "queued"
    assert OcrResult.objects.filter(task=task, status="success").count() == 1


def test_export_action_writes_file_and_links_download(admin, scan_root):
    task = create(scan_root, "张氏家谱", run=True)
    notes = act(admin, "export_csv", task)
    assert any("已导出 1 个任务" in note and "2 页" in note and "/download?format=csv" in note for note in notes)
    export = Export.objects.get(task=task)
    assert export.export_format == "csv" and export.status == "completed"
    html = admin.get("/admin/exports/export/").content.decode()
    assert export.export_id[:8] in html and f"/batch/tasks/{task.task_id}/download?format=csv" in html


def test_delete_action_removes_results_and_export_files(admin, scan_root, django_capture_on_commit_callbacks):
    task = create(scan_root, "张氏家谱", run=True)
    act(admin, "export_json", task)
    path = Export.objects.get(task=task).file_path
    with django_capture_on_commit_callbacks(execute=True):
        notes = act(admin, "delete_tasks", task)
    assert any("已删除 1 个任务" in note and "2 页结果" in note and "1 个导出文件" in note for note in notes)
    assert not BatchTask.objects.exists() and not OcrResult.objects.exists() and not Export.objects.exists()
    from pathlib import Path

    assert not Path(path).exists()
    # The stock bulk delete (which would leave the files) is not offered.
    assert "delete_selected" not in admin.get(CHANGELIST).content.decode()


def test_book_and_result_admins(admin, scan_root):
    task = create(scan_root, "张氏家谱", run=True)
    books = admin.get("/admin/books/book/", {"q": "张氏"}).content.decode()
    assert "张氏家谱" in books and "任务数" in books
    book = Book.objects.get(book_id="张氏家谱")
    assert "查看该书的全部任务" in admin.get(f"/admin/books/book/{book.pk}/change/").content.decode()
    result = OcrResult.objects.filter(task=task).first()
    html = admin.get(f"/admin/batches/ocrresult/{result.pk}/change/").content.decode()
    assert result.raw_text in html and f"/pages/{result.page_id}" in html
    listing = admin.get("/admin/batches/ocrresult/?confidence=low").content.decode()
    assert listing  # the low-confidence filter renders


def test_admin_escapes_hostile_text(admin, scan_root):
    task = create(scan_root, "张氏家谱", run=True)
    OcrResult.objects.filter(task=task).update(raw_text="<script>alert(1)</script>", file_name="<b>x</b>.png")
    html = admin.get(f"{CHANGELIST}{task.pk}/change/").content.decode()
    html += admin.get("/admin/batches/ocrresult/").content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html
