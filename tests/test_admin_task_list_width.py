"""The admin's task list fits a 1400-pixel-wide window: real Chromium (Debian's, driven by Playwright) against a
live server, a list of tasks with long book names, every status and big counts. The table's right edge is
inside the window, nothing scrolls sideways, and the 创建时间 column is fully visible with its date."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from batches.models import BatchTask
from books.models import Book
from tests.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS

CHANGELIST = "/admin/batches/batchtask/"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test-deps)"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of these tests are deliberate.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def tasks(django_user_model):
    """Tasks as an operator sees them after a few weeks: long Chinese book ids, a long owner name, every
    status, books of thousands of pages, times with two-digit months and hours."""
    owner = django_user_model.objects.create_user("scanner-service-account-01", "scan@example.com", "pw-1234567")
    names = ["江西吉安廖氏族谱光绪二十年重修本第三卷", "王氏宗谱", "Zhang family genealogy volume 12 (1898)",
             "张氏家谱卷一至卷十二", "李氏族谱"]
    statuses = ["processing", "completed", "failed", "cancelled", "queued", "pending", "scanning"]
    created = []
    for number in range(14):
        book, _ = Book.objects.get_or_create(book_id=names[number % len(names)])
        total = 12_345 if number % 2 else 987
        processed = total if number % 3 else total // 3
        task = BatchTask.objects.create(
            book=book, owner=owner, source_directory=f"/srv/scans/{number}", status=statuses[number % len(statuses)],
            total_files=total, processed_files=processed, success_files=processed - 17, failed_files=17,
            progress=Decimal(round(100 * processed / total, 2)))
        when = timezone.now().replace(month=12, day=28, hour=23, minute=59) - timedelta(days=number)
        BatchTask.objects.filter(pk=task.pk).update(created_at=when, started_at=when,
                                                    completed_at=when + timedelta(hours=10, minutes=33))
        created.append(task)
    return created


@pytest.fixture
def admin_page(browser, live_server, client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-12345678")
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


MEASURE = """() => {
    const box = (element) => element.getBoundingClientRect();
    const table = document.querySelector('#result_list');
    const header = document.querySelector('#result_list thead th.column-created_column');
    const label = header.querySelector('.text');
    const cells = [...document.querySelectorAll('#result_list tbody td.field-created_column')];
    const results = document.querySelector('#changelist .results');
    return {
        window: window.innerWidth,
        page: document.documentElement.scrollWidth,
        table: box(table).right,
        results: {right: box(results).right, scroll: results.scrollWidth, client: results.clientWidth},
        header: {left: box(header).left, right: box(header).right, text: header.innerText.trim()},
        label: {right: box(label).right, scroll: label.scrollWidth, client: label.clientWidth},
        cells: cells.map((cell) => ({right: box(cell).right, scroll: cell.scrollWidth, client: cell.clientWidth,
                                     text: cell.innerText.trim()})),
        filter: box(document.querySelector('#changelist-filter')).left,
        durations: [...document.querySelectorAll('#result_list tbody td.field-duration_column')].map(
            (cell) => [cell.innerText.trim(), cell.querySelector('[title]')?.title]),
    };
}"""


def test_task_list_fits_a_1400_pixel_window(admin_page, live_server, tasks):
    admin_page.goto(live_server.url + CHANGELIST)
    layout = admin_page.evaluate(MEASURE)
    print(layout)
    width = layout["window"]
    assert width == 1400
    assert layout["page"] <= width, f"the page scrolls sideways: {layout['page']} px wide"
    assert layout["table"] <= width, f"the table ends at {layout['table']} px"
    # Django's admin puts the table in a box that scrolls sideways: it must not need to.
    assert layout["results"]["scroll"] <= layout["results"]["client"], layout["results"]
    header = layout["header"]
    assert header["text"].startswith("创建时间") and 0 <= header["left"] < header["right"] <= width, header
    assert layout["label"]["scroll"] <= layout["label"]["client"] + 1, layout["label"]  # the label not cut
    # The filters stay beside the table, not over it.
    assert layout["table"] <= layout["filter"], layout
    assert len(layout["cells"]) == len(tasks)
    for cell in layout["cells"]:
        assert cell["right"] <= width and cell["scroll"] <= cell["client"] + 1, cell
        assert "12" in cell["text"] and ":" in cell["text"], cell  # a date and a time, both shown
    # Times taken in the short form, the long one in the tooltip.
    assert ["10:33:00", "10 小时 33 分 00 秒"] in layout["durations"], layout["durations"]
