"""Real Chromium (Debian's, driven by Playwright, as tests/test_browser_dashboard.py) against a live server:
search a scanned book from /batch, open a result, and see the page view on the hit's page of a two-page
TIFF with its line highlighted, in the list and over the image; and on `/`, switch between the pages of a
PDF and see each page's own boxes. The pages are read by the real engine (in this process, what a worker
does)."""

import io

import pytest

from batches import services
from tests.pages import render_lines
from tests.test_browser_dashboard import (CHROMIUM, allow_orm_beside_playwright, browser, page,  # noqa: F401
                                          screenshot, user)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
PAGES = [["陈氏族谱卷一", "世系图"], ["族谱序言", "始祖陈德明公", "配林氏"]]


def two_pages(fmt: str) -> bytes:
    images = [render_lines(lines, size=32, margin=30) for lines in PAGES]
    buffer = io.BytesIO()
    extra = {"resolution": 200} if fmt == "PDF" else {"compression": "tiff_deflate"}
    images[0].save(buffer, fmt, save_all=True, append_images=images[1:], **extra)
    return buffer.getvalue()


@pytest.fixture
def scanned_book(tmp_path, settings):
    root = tmp_path / "scans"
    (root / "陈氏").mkdir(parents=True)
    (root / "陈氏" / "001.png").write_bytes(_png(["陈氏族谱序"]))
    (root / "陈氏" / "002.tif").write_bytes(two_pages("TIFF"))
    settings.SCAN_ROOTS = [root.resolve()]
    task = services.task_create(book_id="陈氏族谱", directory=str(root / "陈氏"), auto_start=False,
                                options=services.ScanOptions.from_raw({"text_layout": "horizontal"}))
    services.task_start(task_id=task.task_id, send=False)
    task = services.task_run_inline(task_id=task.task_id)
    assert task.success_files == 2
    return task


def _png(lines) -> bytes:
    buffer = io.BytesIO()
    render_lines(lines, size=32, margin=30).save(buffer, "PNG")
    return buffer.getvalue()


def test_search_opens_the_page_view_on_the_highlighted_line(page, live_server, scanned_book):
    page.goto(live_server.url + "/batch")
    page.fill("#id_q", "陳德明")  # the traditional form finds the simplified text
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#search-results")
    assert "1 页" in page.text_content("#search-summary")
    results = page.locator(".search-results li")
    assert results.count() == 1
    assert page.text_content(".search-results mark") == "陈德明"
    assert "文件第 2 页" in results.first.text_content()
    screenshot(page, "search-results")
    results.first.locator("a.snippet").click()
    page.wait_for_selector("#viewer-overlay polygon.focus")
    # The hit's page of the TIFF, its line highlighted in the list and its box over the image.
    assert "/pages/" in page.url and "fp=2" in page.url
    assert page.get_attribute("#file-pages [aria-current=page]", "data-file-page") == "2"
    assert page.locator("#page-lines tr").count() == 3
    focused = page.locator("#page-lines tr.focus")
    assert focused.count() == 1 and focused.locator("mark").text_content() == "陈德明"
    assert page.locator("#viewer-overlay polygon.hit").count() == 1
    image = page.locator("#viewer-image")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    box = page.locator("#viewer-overlay polygon.focus").bounding_box()
    viewer = page.locator("#viewer").bounding_box()
    assert viewer["y"] <= box["y"] and box["y"] + box["height"] <= viewer["y"] + viewer["height"]
    screenshot(page, "search-page-view")
    # The switcher's first page: the other lines, nothing of the query there.
    with page.expect_navigation():
        page.click("#file-pages [data-file-page='1']")
    assert page.locator("#page-lines tr.hit").count() == 0
    assert page.locator("#page-lines tr").count() == 2
    assert not page.dialogs


def test_recognize_page_switches_between_the_pages_of_a_pdf(page, live_server, tmp_path):
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(two_pages("PDF"))
    page.set_input_files("#id_file", str(pdf))
    page.select_option("#id_text_layout", "horizontal")
    page.click("#recognize-button")
    page.wait_for_selector("#page-switcher button")
    assert page.locator("#page-switcher button").count() == 2
    page.wait_for_selector("#viewer[data-file-page='1'] #viewer-overlay polygon")
    assert [row.text_content() for row in page.locator("#result-lines tr td:nth-child(2)").all()] == PAGES[0]
    page.click("#page-switcher button[data-file-page='2']")
    # A selector, not wait_for_function: the page's CSP (script-src 'self') forbids the eval that needs.
    page.wait_for_selector("#viewer[data-boxes='3']")
    assert [row.text_content() for row in page.locator("#result-lines tr td:nth-child(2)").all()] == PAGES[1]
    assert page.get_attribute("#page-switcher button[data-file-page='2']", "aria-current") == "page"
    assert page.locator("#viewer-image").evaluate("img => img.src.startsWith('data:image/jpeg')")
    screenshot(page, "recognize-pdf-page-2")
    assert not page.dialogs
