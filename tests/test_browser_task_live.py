"""Real Chromium (Debian's, driven by Playwright, as tests/test_browser_dashboard.py) on a task's page while its
files are listed and then while a real Celery worker reads its 24 rendered pages and one broken file. The
page must show the rows once listed, then, without another reload, end as a reload would show it: 完成时间,
the counts at the totals, every page's 耗时 (rows past the first twelve included, issue #14) and the broken
file's error."""

import re
from pathlib import Path

import pytest

from batches import services
from tests.batch_support import book_dir, page_text, worker, write_page  # noqa: F401 (fixtures)
from tests.test_browser_dashboard import (CHROMIUM, allow_orm_beside_playwright, browser, page,  # noqa: F401
                                          screenshot, user)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
PAGES = 24
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def shown(page) -> tuple:
    """What the task page shows: the task's card, the page table's text and its rows' classes."""
    return (page.inner_text("#task"), page.inner_text("#page-table"),
            [row.get_attribute("class") or "" for row in page.locator("#page-table tbody tr").all()])


def test_task_page_follows_the_task_to_its_end_without_reloading(page, live_server, worker, book_dir):
    for number in range(1, PAGES + 1):
        write_page(book_dir / f"{number:03d}.png", [page_text(1, number)])
    (book_dir / f"{PAGES + 1:03d}.png").write_bytes(b"not an image")
    task = services.task_create(book_id="刘氏族谱", directory=str(book_dir), auto_start=False, send=False,
                                options=services.ScanOptions.from_raw({"text_layout": "horizontal"}))
    assert task.status == "scanning"

    # Opened while the files are being listed: no rows yet; the page reloads itself once they are.
    page.goto(f"{live_server.url}/batch/tasks/{task.task_id}")
    assert "正在列出" in page.text_content("main") and page.locator("#page-table").count() == 0
    assert services.task_list_files(task_id=task.task_id, send=False).status == "pending"
    page.wait_for_selector("#page-table")
    times = page.locator("#page-table tbody tr [data-page-time]")
    assert times.count() == PAGES + 1 and set(times.all_text_contents()) == {"—"}
    assert page.text_content("#task [data-completed]") == "—"
    page.evaluate("window.__notReloaded = true")

    services.task_start(task_id=task.task_id)
    # A selector, not wait_for_function: the page's CSP (script-src 'self') forbids the eval that needs.
    page.wait_for_selector('#task[data-status="completed"]', state="attached", timeout=120_000)

    assert page.evaluate("window.__notReloaded") is True  # updated in place
    assert page.text_content("#task-status") == "已完成"
    assert page.text_content("#task [data-progress-label]") == "100.0%"
    counts = [page.text_content(f"#task [data-{name}]") for name in ("total", "processed", "success", "failed")]
    assert counts == [str(PAGES + 1), str(PAGES + 1), str(PAGES), "1"]
    assert TIME.fullmatch(page.text_content("#task [data-started]"))
    assert TIME.fullmatch(page.text_content("#task [data-completed]"))
    assert page.locator("#page-table [data-page-status]").all_text_contents() == ["成功"] * PAGES + ["失败"]
    times = times.all_text_contents()
    assert all(re.fullmatch(r"\d+\.\d{3}", value) and float(value) > 0 for value in times[:PAGES]), times
    assert page.locator("#page-table tbody tr").last.locator("[data-page-error]").is_visible()
    assert page.locator("#task a[data-action=download]").is_visible()
    screenshot(page, "task-live-completed")
    live = shown(page)
    page.reload()
    assert shown(page) == live  # nothing left for a reload to change
    assert not page.dialogs
