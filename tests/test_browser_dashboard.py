"""Real Chromium (Debian's, driven by Playwright) against a live server and a real Celery worker:
log in, try one image and see the boxes; start a scan of a generated book from /batch and watch its progress
bar reach 100 % without reloading; open the task and a page view with its overlay; cancel a second scan;
export and download; the admin pages.

Screenshots of every main page go to artifacts/screenshots/ (gitignored), for a person to look at.
"""

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.batch_support import purge_broker, running_worker
from tests.pages import encode, render_lines

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
USERNAME, PASSWORD = "operator", "browser-pass-123"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.png"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test-deps)"),
]


# --- Fixtures ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread with
    a running loop unless told that this is deliberate (the tests' own ORM calls and fixtures), so this
    module, and only this module, says so."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_superuser(USERNAME, "op@example.com", PASSWORD)


@pytest.fixture
def page(browser, live_server, user):
    """A logged-in page (through the login form); fails the test if any script dialog (alert) opens."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.on("pageerror", lambda error: dialogs.append(f"page error: {error}"))
    page.dialogs = dialogs
    page.goto(live_server.url + "/")
    assert "/login/" in page.url  # login required
    screenshot(page, "01-login")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    yield page
    context.close()


@pytest.fixture(scope="module")
def scan_root(tmp_path_factory):
    return tmp_path_factory.mktemp("scan-root").resolve()


@pytest.fixture(scope="module")
def scan_worker(django_db_setup, django_db_blocker, tmp_path_factory, scan_root):
    """A real Celery worker on the test database and the test Redis database, seeing scan_root as its
    only scan root (tests/batch_support.py)."""
    with django_db_blocker.unblock():
        purge_broker()
        with running_worker(tmp_path_factory.mktemp("worker"), name="dashboard", SCAN_ROOTS=str(scan_root)) as w:
            yield w
        purge_broker()


@pytest.fixture
def scan_settings(settings, scan_root, tmp_path):
    settings.SCAN_ROOTS = [scan_root]
    return settings


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def write_book(folder: Path, pages: int, hostile: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(1, pages + 1):
        lines = [f"第一卷第{number}页", f"Page {number} 李氏"]
        (folder / f"卷一_{number:03d}.png").write_bytes(encode(render_lines(lines, size=28, margin=30)))
    if hostile:
        (folder / HOSTILE_NAME).write_bytes(encode(render_lines(["族谱序言"], size=28, margin=30)))


def start_scan(page, base_url, directory: Path, book_id: str):
    page.goto(base_url + "/batch")
    page.select_option("#id_directory", str(directory))
    page.fill("#id_book_id", book_id)
    page.select_option("#id_lang", "ch")
    page.select_option("#id_text_layout", "horizontal")
    page.select_option("#id_output_format", "line_by_line")
    page.fill("#id_file_patterns", "*.png")
    page.click("#scan-form button[type=submit]")
    page.wait_for_url(base_url + "/batch")
    assert "已创建扫描任务" in page.text_content(".messages")
    row = page.locator("#task-table tbody tr").first
    return row, row.get_attribute("data-task-id")


# --- Tests -------------------------------------------------------------------------------------------------

def test_try_one_image_shows_text_lines_and_boxes(page, live_server, tmp_path):
    image = tmp_path / "族谱<b>.png"
    image.write_bytes(encode(render_lines(["李氏族谱第一卷", "Hello PaddleOCR 2024"], face="serif")))
    page.set_input_files("#id_file", str(image))
    assert page.text_content("#file-name") == "族谱<b>.png"  # shown as text, not markup
    page.select_option("#id_text_layout", "horizontal")
    page.select_option("#id_output_format", "line_by_line")
    page.click("#recognize-button")
    page.wait_for_selector("#viewer-overlay polygon")
    assert page.text_content("#result-text") == "李氏族谱第一卷\nHello PaddleOCR 2024"
    rows = page.locator("#result-lines tr")
    assert rows.count() == 2
    assert "李氏族谱第一卷" in rows.nth(0).text_content()
    assert page.locator("#viewer-overlay polygon").count() == 2
    # The boxes lie over the image: the first box is inside the displayed image, near its text's place.
    image_box = page.locator("#viewer-image").bounding_box()
    first = page.locator("#viewer-overlay polygon").first.bounding_box()
    assert image_box["width"] > 100
    assert image_box["x"] <= first["x"] and first["x"] + first["width"] <= image_box["x"] + image_box["width"] + 1
    assert image_box["y"] <= first["y"] and first["y"] + first["height"] <= image_box["y"] + image_box["height"] + 1
    assert first["y"] < image_box["y"] + image_box["height"] / 2  # the first line is in the upper half
    assert "<b>" in page.text_content("#result-meta")
    screenshot(page, "02-recognize-result")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "03-recognize-phone")
    assert page.dialogs == []


def test_try_one_image_shows_errors(page, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not an image")
    page.set_input_files("#id_file", str(bad))
    page.click("#recognize-button")
    page.wait_for_selector("#result-error:not([hidden])")
    assert "不支持" in page.text_content("#result-error")


def test_scan_progress_page_view_cancel_export_download(page, live_server, scan_worker, scan_settings, scan_root,
                                                        tmp_path):
    base = live_server.url
    (SCREENSHOTS / "04-batch-in-progress.png").unlink(missing_ok=True)
    book = scan_root / "李氏族谱"
    write_book(book, pages=6, hostile=True)
    second_book = scan_root / "王氏宗谱"
    write_book(second_book, pages=12)
    try:
        # Start the scan of the first book from the form; the row's bar must reach 100 % with no reload.
        row, task_id = start_scan(page, base, book, "李氏族谱")
        page.evaluate("window.__notReloaded = true")
        assert row.locator("[data-total]").text_content() == "7"
        # Start a second scan at once and cancel it while it waits behind the first (or runs).
        page.goto(base + "/batch")
        page.evaluate("window.__notReloaded = true")
        second_row, second_id = start_scan(page, base, second_book, "王氏宗谱")
        assert second_id != task_id
        page.evaluate("window.__notReloaded = true")
        second_row.locator("button[data-action=cancel]").click()
        page.wait_for_url(re.compile(r"/batch"))
        assert "已取消" in page.text_content(".messages")
        second_row = page.locator(f'tr[data-task-id="{second_id}"]')
        assert second_row.locator("[data-status-label]").text_content() == "已取消"
        assert second_row.locator("button[data-action=retry]").is_visible()
        assert not second_row.locator("button[data-action=cancel]").is_visible()

        page.evaluate("window.__notReloaded = true")
        first_row = page.locator(f'tr[data-task-id="{task_id}"]')
        seen = set()
        for _ in range(900):  # up to 3 minutes on a busy machine
            label = first_row.locator("[data-progress-label]").text_content()
            seen.add(label)
            if label == "100.0%":
                break
            if len(seen) == 2 and label != "0.0%" and not (SCREENSHOTS / "04-batch-in-progress.png").exists():
                screenshot(page, "04-batch-in-progress")
            page.wait_for_timeout(200)
        assert first_row.locator("[data-progress-label]").text_content() == "100.0%", seen
        page.wait_for_function(
            f'document.querySelector(\'tr[data-task-id="{task_id}"] [data-status-label]\').textContent === "已完成"')
        assert page.evaluate("window.__notReloaded") is True  # updated in place
        assert first_row.locator("[data-processed]").text_content() == "7"
        assert first_row.locator("button[data-action=export]").is_visible()
        screenshot(page, "05-batch-completed")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "06-batch-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        # The task page: counts, rate, pages in book order.
        first_row.locator("a").first.click()
        page.wait_for_url(f"{base}/batch/tasks/{task_id}")
        assert page.text_content("#task [data-success]") == "7"
        assert page.text_content("#task [data-rate]") not in ("", "—")
        names = page.locator("#page-table tbody tr td.filename a").all_text_contents()
        assert names == [HOSTILE_NAME] + [f"卷一_{n:03d}.png" for n in range(1, 7)]
        screenshot(page, "07-task")

        # A page view: image with boxes over it, text beside it, next/previous.
        page.click("text=卷一_002.png")
        page.wait_for_selector("#viewer-overlay polygon")
        assert page.locator("#viewer-overlay polygon").count() == 2
        assert "第一卷第2页" in page.text_content("#page-text")
        natural = page.evaluate("document.getElementById('viewer-image').naturalWidth")
        assert natural > 0
        image_box = page.locator("#viewer-image").bounding_box()
        box = page.locator("#viewer-overlay polygon").first.bounding_box()
        assert image_box["x"] <= box["x"] <= image_box["x"] + image_box["width"]
        assert image_box["y"] <= box["y"] <= image_box["y"] + image_box["height"]
        screenshot(page, "08-page-view")
        page.click("#next-page")
        page.wait_for_selector("#viewer-overlay polygon")
        assert "第一卷第3页" in page.text_content("#page-text")
        page.click("#prev-page")
        page.wait_for_selector("#viewer-overlay polygon")
        assert "第一卷第2页" in page.text_content("#page-text")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "09-page-view-phone")
        page.set_viewport_size({"width": 1280, "height": 900})

        # The hostile file name's page shows the name as text (no alert fired anywhere).
        page.goto(f"{base}/batch/tasks/{task_id}")
        page.locator("#page-table tbody tr td.filename a").first.click()
        assert page.text_content("h1") == HOSTILE_NAME

        # Export (button on the task page), then download through the dashboard.
        page.goto(f"{base}/batch/tasks/{task_id}")
        page.select_option("#task .export-form select", "json")
        page.click("#task button[data-action=export]")
        page.wait_for_url(f"{base}/batch/tasks/{task_id}")
        assert "已导出 7 页" in page.text_content(".messages")
        with page.expect_download() as info:
            page.click("#task a[data-action=download]")
        target = tmp_path / "download.json"
        info.value.save_as(target)
        document = json.loads(target.read_text(encoding="utf-8"))
        assert document["task_id"] == task_id and document["total_pages"] == 7
        assert [p["raw_text"].split("\n")[0] for p in document["pages"]][1:] == [f"第一卷第{n}页" for n in range(1, 7)]

        # Admin pages, for the screenshots (their actions are tested in test_admin_*.py).
        page.goto(f"{base}/admin/batches/batchtask/")
        assert page.locator(".ocr-progress").count() == 2
        screenshot(page, "10-admin-tasks")
        page.click(f"text={task_id[:8]}")
        page.wait_for_selector(f'a[href*="/batch/tasks/{task_id}/pages/"]')
        assert page.locator(f'a[href*="/batch/tasks/{task_id}/pages/"]').count() == 7
        screenshot(page, "11-admin-task")

        # Delete the cancelled task from the list (confirmation accepted).
        page.goto(base + "/batch")
        page.locator(f'tr[data-task-id="{second_id}"] button[data-action=delete]').click()
        page.wait_for_url(re.compile(r"/batch"))
        assert "已删除" in page.text_content(".messages")
        assert page.locator(f'tr[data-task-id="{second_id}"]').count() == 0
        assert page.dialogs == ["确定删除此任务及其全部识别结果和导出文件？"]
    finally:
        shutil.rmtree(book, ignore_errors=True)
        shutil.rmtree(second_book, ignore_errors=True)
