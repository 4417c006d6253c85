"""/batch, a task's page and a page's view through the Django test client, on real scans read by the engine
(pages run in-process with task_run_inline, what a worker does)."""

from pathlib import Path

import pytest
from django.utils import timezone
from django.test import Client

from batches import services
from batches.models import BatchTask, OcrResult
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '<img src=x onerror=alert(1)>'
HOSTILE_TEXT = '<script>alert("owned")</script>'


@pytest.fixture
def scan_root(tmp_path, settings):
    root = tmp_path / "scans"
    book = root / "李氏族谱"
    book.mkdir(parents=True)
    for number, line in enumerate(["李氏族谱", "始祖德明公", "明洪武年间"], 1):
        (book / f"卷一_{number:03d}.png").write_bytes(encode(render_lines([line], size=32, margin=20)))
    (root / "other").mkdir()
    settings.SCAN_ROOTS = [root.resolve()]
    return root.resolve()


@pytest.fixture
def logged_in(client, django_user_model):
    # Staff: the tasks here are made from the shell, without an owner (tests/test_dashboard_owners.py has
    # what a user without staff status sees).
    client.force_login(django_user_model.objects.create_user("operator", password="pw-12345678", is_staff=True))
    return client


def make_task(root: Path, book_id="lishi", run=True, **options) -> BatchTask:
    task = services.task_create(book_id=book_id, directory=str(root / "李氏族谱"),
                                options=services.ScanOptions(**options), auto_start=False)
    if run:
        services.task_start(task_id=task.task_id, send=False)
        task = services.task_run_inline(task_id=task.task_id)
    return task


def test_batch_page_lists_directories_under_scan_roots_only(logged_in, scan_root):
    html = logged_in.get("/batch").content.decode()
    assert "新建扫描任务" in html
    assert f'value="{scan_root / "李氏族谱"}"' in html and f'value="{scan_root / "other"}"' in html
    assert 'value="/etc"' not in html


def test_scan_form_creates_and_starts_a_task_through_the_service(logged_in, scan_root):
    response = logged_in.post("/batch/scan", {
        "directory": str(scan_root / "李氏族谱"), "book_id": "lishi", "lang": "ch", "text_layout": "horizontal",
        "output_format": "line_by_line", "file_patterns": "*.png", "recursive": "on", "use_angle_cls": "on",
        "priority": "5"})
    assert response.status_code == 302
    task = BatchTask.objects.get()
    assert task.book_id == "lishi" and task.total_files == 3 and task.status == "queued"
    assert task.file_patterns == ["*.png"]
    page = logged_in.get("/batch").content.decode()
    assert "已创建扫描任务" in page and task.task_id in page


def test_symlinks_out_of_the_roots_are_not_listed_nor_accepted(logged_in, scan_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (scan_root / "link").symlink_to(outside, target_is_directory=True)
    html = logged_in.get("/batch").content.decode()
    assert str(scan_root / "link") not in html and str(outside) not in html
    response = logged_in.post("/batch/scan", {"directory": str(scan_root / "link"), "book_id": "x", "lang": "ch",
                                              "text_layout": "horizontal", "output_format": "line_by_line",
                                              "priority": "5"})
    assert response.status_code == 400 and BatchTask.objects.count() == 0


@pytest.mark.parametrize("directory", ["/etc", "/tmp", "../../etc", "李氏族谱", ""])
def test_scan_form_refuses_directories_not_listed(logged_in, scan_root, directory):
    response = logged_in.post("/batch/scan", {"directory": directory, "book_id": "x", "lang": "ch",
                                              "text_layout": "horizontal", "output_format": "line_by_line",
                                              "priority": "5"})
    assert response.status_code == 400
    assert BatchTask.objects.count() == 0


def test_duplicate_scan_is_reported(logged_in, scan_root):
    data = {"directory": str(scan_root / "李氏族谱"), "book_id": "lishi", "lang": "ch", "text_layout": "horizontal",
            "output_format": "line_by_line", "priority": "5", "recursive": "on", "use_angle_cls": "on"}
    assert logged_in.post("/batch/scan", data).status_code == 302
    response = logged_in.post("/batch/scan", data)
    assert response.status_code == 400
    assert "尚未结束" in response.content.decode()
    assert BatchTask.objects.count() == 1


def test_status_filter_and_state_json(logged_in, scan_root):
    task = make_task(scan_root, run=False)
    assert task.task_id in logged_in.get("/batch?status=pending").content.decode()
    assert task.task_id not in logged_in.get("/batch?status=completed").content.decode()
    state = logged_in.get(f"/batch/state?ids={task.task_id},nope").json()
    assert [t["task_id"] for t in state["tasks"]] == [task.task_id]
    assert state["tasks"][0]["status"] == "pending" and state["tasks"][0]["status_label"] == "待启动"


def test_task_page_shows_counts_timing_and_pages_in_book_order(logged_in, scan_root):
    task = make_task(scan_root)
    assert task.status == "completed" and task.success_files == 3
    html = logged_in.get(f"/batch/tasks/{task.task_id}").content.decode()
    positions = [html.index(f"卷一_{n:03d}.png") for n in (1, 2, 3)]
    assert positions == sorted(positions)
    assert "页/秒" in html and "预计剩余" in html and "已完成" in html
    state = logged_in.get(f"/batch/tasks/{task.task_id}/state").json()
    assert state["progress"] == 100.0 and state["processed_files"] == 3 and state["finished"] is True
    assert state["pages_per_second"] > 0
    assert [p["status"] for p in state["pages"]] == ["success"] * 3
    # What the page's script writes into the cells that the template filled at load time.
    task.refresh_from_db()
    assert state["completed_at"] == timezone.localtime(task.completed_at).strftime("%Y-%m-%d %H:%M:%S")
    assert state["started_at"] != "—" and all(float(p["processing_time"]) > 0 for p in state["pages"])
    assert "data-completed" in html and "data-page-time" in html


def test_page_view_shows_text_boxes_and_neighbours(logged_in, scan_root):
    task = make_task(scan_root)
    first, second, third = OcrResult.objects.filter(task=task).order_by("sequence")
    html = logged_in.get(f"/batch/tasks/{task.task_id}/pages/{second.page_id}").content.decode()
    assert "始祖德明公" in html
    assert f"/pages/{first.page_id}" in html and f"/pages/{third.page_id}" in html
    assert 'id="overlay-data"' in html and '"box"' in html
    image = logged_in.get(f"/batch/tasks/{task.task_id}/pages/{second.page_id}/image")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image.content == (scan_root / "李氏族谱" / "卷一_002.png").read_bytes()


def test_page_image_serves_only_files_of_that_task(logged_in, scan_root, tmp_path):
    task = make_task(scan_root, run=False)
    other = make_task(scan_root, book_id="other", run=False, recursive=False)
    page = OcrResult.objects.filter(task=task).first()
    # Another task's id with this page: not found.
    assert logged_in.get(f"/batch/tasks/{other.task_id}/pages/{page.page_id}/image").status_code == 404
    # A row pointing outside its task's directory (tampered with): not served.
    secret = tmp_path / "secret.png"
    secret.write_bytes((scan_root / "李氏族谱" / "卷一_001.png").read_bytes())
    OcrResult.objects.filter(pk=page.pk).update(relative_path="../../secret.png")
    assert logged_in.get(f"/batch/tasks/{task.task_id}/pages/{page.page_id}/image").status_code == 404
    OcrResult.objects.filter(pk=page.pk).update(relative_path=str(secret))
    assert logged_in.get(f"/batch/tasks/{task.task_id}/pages/{page.page_id}/image").status_code == 404
    # Not logged in: no image.
    assert Client().get(f"/batch/tasks/{task.task_id}/pages/{page.page_id}/image").status_code == 302


def test_hostile_file_names_and_text_are_escaped(logged_in, scan_root):
    book = scan_root / "李氏族谱"
    (book / f"{HOSTILE_NAME}.png").write_bytes((book / "卷一_001.png").read_bytes())
    task = make_task(scan_root, run=False)
    page = OcrResult.objects.get(task=task, file_name=f"{HOSTILE_NAME}.png")
    OcrResult.objects.filter(pk=page.pk).update(
        status="success", success=True, raw_text=HOSTILE_TEXT, confidence=0.5,
        json_data={"details": [{"text": HOSTILE_TEXT, "confidence": 0.5, "box": [[1, 1], [9, 1], [9, 9], [1, 9]]}],
                   "width": 10, "height": 10})
    for url in ("/batch", f"/batch/tasks/{task.task_id}", f"/batch/tasks/{task.task_id}/pages/{page.page_id}"):
        html = logged_in.get(url).content.decode()
        assert HOSTILE_NAME not in html and HOSTILE_TEXT not in html, url
    html = logged_in.get(f"/batch/tasks/{task.task_id}/pages/{page.page_id}").content.decode()
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\\u003Cscript\\u003E" in html  # json_script escapes it for the overlay data too
    assert 'class="low"' in html


def test_cancel_retry_export_download_delete_buttons(logged_in, scan_root, settings, tmp_path,
                                                     django_capture_on_commit_callbacks):
    settings.EXPORT_DIR = tmp_path / "exports"
    task = make_task(scan_root, run=False)
    services.task_start(task_id=task.task_id, send=False)
    url = f"/batch/tasks/{task.task_id}"
    response = logged_in.post(f"{url}/cancel", {"next": url}, follow=True)
    assert "已取消" in response.content.decode()
    assert BatchTask.objects.get(pk=task.pk).status == "cancelled"
    response = logged_in.post(f"{url}/retry", follow=True)
    assert "将重新识别 3 页" in response.content.decode()
    assert BatchTask.objects.get(pk=task.pk).status == "queued"
    services.task_run_inline(task_id=task.task_id)
    response = logged_in.post(f"{url}/export", {"format": "csv", "next": url}, follow=True)
    assert "已导出 3 页" in response.content.decode()
    download = logged_in.get(f"{url}/download?format=csv")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    assert body.startswith("文件名,卷号,页码,识别文字,置信度,状态") and "始祖德明公" in body
    json_download = logged_in.get(f"{url}/download?format=json")  # created on demand
    assert json_download.status_code == 200
    export_files = list((tmp_path / "exports").rglob("*.*"))
    assert export_files
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"{url}/delete", {"next": url}, follow=True)
    assert response.redirect_chain[-1][0] == "/batch"
    assert "已删除" in response.content.decode()
    assert not BatchTask.objects.filter(pk=task.pk).exists() and not OcrResult.objects.filter(task_id=task.task_id).exists()
    assert not any(path.exists() for path in export_files)


def test_action_errors_become_messages(logged_in, scan_root):
    task = make_task(scan_root)
    response = logged_in.post(f"/batch/tasks/{task.task_id}/cancel", follow=True)
    assert "操作失败" in response.content.decode()
    response = logged_in.post("/batch/tasks/no-such-task/delete", follow=True)
    assert "任务不存在" in response.content.decode()


@pytest.mark.parametrize("url", ["/batch", "/batch/state?ids=x", "/batch/tasks/x", "/batch/tasks/x/pages/y",
                                 "/batch/tasks/x/download"])
def test_batch_views_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_actions_need_post_and_login(client, logged_in):
    assert client.post("/batch/tasks/x/cancel").status_code == 302
    assert logged_in.get("/batch/tasks/x/cancel").status_code == 405


def test_timing_figures():
    from datetime import timedelta

    from django.utils import timezone

    from core.timing import format_duration, task_timing

    now = timezone.now()
    task = BatchTask(status="processing", total_files=100, processed_files=25, started_at=now - timedelta(seconds=50))
    timing = task_timing(task, now=now)
    assert timing.pages_per_second == 0.5 and timing.eta == timedelta(seconds=150)
    assert format_duration(timing.eta) == "2 分 30 秒" and format_duration(timedelta(hours=1, seconds=5)) == "1 小时 00 分 05 秒"
    done = BatchTask(status="completed", total_files=4, processed_files=4, started_at=now - timedelta(seconds=8),
                     completed_at=now - timedelta(seconds=4))
    assert task_timing(done, now=now).elapsed == timedelta(seconds=4) and task_timing(done, now=now).eta is None
    assert task_timing(BatchTask(status="pending"), now=now).as_dict()["eta"] == "—"
