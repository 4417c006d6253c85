"""GET /api/ocr/batch/search against the test suite's database (MariaDB; tests/test_batch_search_sqlite.py runs
this module again on SQLite): substring search of one or more characters, traditional and simplified forms
finding each other, book order, snippets and boxes, filters, paging, access, errors, and the index kept in
step with the results (recorded, re-recorded, deleted with the task).

Most pages are written through the real record of a page (services.page_record, what a worker calls after
the engine) with lines given here, since these tests are about search, not OCR; one page goes through the
real engine (test_a_page_read_by_the_engine_is_found)."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from batches import search, services
from batches.models import BatchTask, OcrResult, SearchPosting, SearchText
from batches.services import search_index
from books.models import Book
from core.services import token_create
from tests.api_support import assert_error
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
URL = "/api/ocr/batch/search"
OUTSIDE = "203.0.113.7"


def box(row: int) -> list:
    return [[10, 10 + 40 * row], [300, 10 + 40 * row], [300, 40 + 40 * row], [10, 40 + 40 * row]]


def details(lines: list[str]) -> list[dict]:
    return [{"text": text, "confidence": 0.99, "box": box(row)} for row, text in enumerate(lines)]


def make_task(book_id: str, pages: list, owner=None, volume_of=None, total_files=None) -> BatchTask:
    """A task whose pages are recorded as a worker records them. `pages`: per page, its lines (a list of
    strings) or, for a multi-page file, a list of such lists. With total_files above their number the task
    is still processing afterwards."""
    Book.objects.get_or_create(book_id=book_id)
    task = BatchTask.objects.create(book_id=book_id, source_directory=f"/scans/{book_id}", owner=owner,
                                    status="processing", total_files=total_files or len(pages))
    for sequence, lines in enumerate(pages):
        record(task, sequence, lines, volume_of(sequence) if volume_of else "1")
    return task


def record(task: BatchTask, sequence: int, lines: list, volume: str = "1") -> None:
    result = OcrResult.objects.create(task=task, book_id=task.book_id, file_name=f"{sequence + 1:03d}.png",
                                      relative_path=f"卷{volume}/{sequence + 1:03d}.png", path_hash=f"h{sequence}",
                                      sequence=sequence, volume=volume, page_number=sequence + 1)
    if lines and isinstance(lines[0], list):
        json_data = {"details": [], "pages": [{"text": "\n".join(page), "details": details(page),
                                               "width": 320, "height": 400} for page in lines]}
        text = "\n\n".join("\n".join(page) for page in lines)
    else:
        json_data = {"details": details(lines), "width": 320, "height": 400}
        text = "\n".join(lines)
    assert services.page_record(task=task, result=result,
                                fields={"success": True, "raw_text": text, "json_data": json_data})


def get(client=None, **params):
    return (client or APIClient()).get(URL, params)


def paths(body) -> list[tuple[str, str]]:
    return [(hit["book_id"], hit["relative_path"]) for hit in body["results"]]


@pytest.fixture
def books():
    first = make_task("陈氏族谱", [["陈氏族谱卷一", "始祖陈德明公"], ["配林氏生子三"], ["陳文華公葬後山"]])
    second = make_task("李氏族谱", [["李氏族谱卷一"], ["长女适陈门", "光绪三年"]])
    return first, second


def test_one_character_finds_traditional_and_simplified_in_book_order(books):
    body = get(q="陈").json()
    assert body["success"] is True and body["count"] == 3 and body["count_exact"] is True
    # Book order: books by id, pages by sequence; 陳 (traditional) is found by 陈.
    assert paths(body) == [("李氏族谱", "卷1/002.png"), ("陈氏族谱", "卷1/001.png"), ("陈氏族谱", "卷1/003.png")]
    hit = body["results"][2]
    assert hit["line"] == {"text": "陳文華公葬後山", "box": box(0), "index": 0, "page": 1, "start": 0, "end": 1,
                           "snippet_start": 0, "snippet_end": 1}
    assert hit["snippet"] == "陳文華公葬後山" and hit["hits"] == 1
    assert hit["task_id"] == books[0].task_id and hit["taskId"] == books[0].task_id  # the Java clients' twin
    assert hit["page_id"] == OcrResult.objects.get(task=books[0], sequence=2).page_id
    assert (hit["volume"], hit["page_number"]) == (1, 3)
    # ... and the traditional form finds the simplified one.
    assert get(q="陳").json()["count"] == 3
    first = body["results"][1]
    assert first["line"]["text"] == "陈氏族谱卷一" and first["hits"] == 2  # both lines of page 1 have 陈


def test_longer_queries_match_substrings_within_a_line(books):
    assert paths(get(q="陈德明").json()) == [("陈氏族谱", "卷1/001.png")]
    hit = get(q="德明公").json()["results"][0]
    assert (hit["line"]["text"], hit["line"]["start"], hit["line"]["end"], hit["line"]["box"]) == \
        ("始祖陈德明公", 3, 6, box(1))
    assert paths(get(q="光绪三年").json()) == [("李氏族谱", "卷1/002.png")]
    assert paths(get(q="葬后山").json()) == [("陈氏族谱", "卷1/003.png")]  # 葬後山 in the text
    # Every pair of 氏族 and 族卷 is on pages 1 of both books, but 氏族卷 is on none (谱 between them).
    assert get(q="氏族卷").json()["count"] == 0
    # Not across lines: 公配 would join line 2 of page 1 with page 2; 一始 joins two lines of page 1.
    assert get(q="一始").json()["count"] == 0
    assert get(q="族谱").json()["count"] == 2


def test_latin_full_width_and_spaces_are_folded(django_user_model):
    make_task("Smith family", [["Hello PaddleOCR 2024", "ＡＢＣ 公司"]])
    assert get(q="paddleocr").json()["count"] == 1
    assert get(q="HELLO padd").json()["count"] == 1  # spaces are dropped on both sides
    hit = get(q="abc").json()["results"][0]
    assert (hit["line"]["text"], hit["line"]["start"], hit["line"]["end"]) == ("ＡＢＣ 公司", 0, 3)
    assert get(q="2024").json()["count"] == 1 and get(q="2025").json()["count"] == 0


def test_filters_by_book_volume_and_task(books):
    other_volume = make_task("陈氏族谱", [["陈家祠"], ["陈氏宗祠"]], volume_of=lambda n: str(n + 2))
    assert paths(get(q="陈", book_id="李氏族谱").json()) == [("李氏族谱", "卷1/002.png")]
    # A second scan of the same book comes after the first (scans oldest first).
    assert [hit["task_id"] for hit in get(q="陈", book_id="陈氏族谱").json()["results"]] == \
        [books[0].task_id] * 2 + [other_volume.task_id] * 2
    assert paths(get(q="陈", volume="3").json()) == [("陈氏族谱", "卷3/002.png")]
    assert get(q="陈氏", volume="3").json()["count"] == 1
    assert [hit["task_id"] for hit in get(q="陈", task_id=other_volume.task_id).json()["results"]] == \
        [other_volume.task_id] * 2
    assert_error(get(q="陈", task_id="no-such-task"), 404, "TASK_NOT_FOUND")


def test_paging_links_and_bounds():
    make_task("王氏族谱", [[f"王氏第{n}页"] for n in range(1, 8)])
    first = get(q="王", page_size=3).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    assert "page=2" in first["next"] and "page_size=3" in first["next"]
    second = APIClient().get(first["next"]).json()
    assert [hit["line"]["text"] for hit in second["results"]] == ["王氏第4页", "王氏第5页", "王氏第6页"]
    assert "page=" not in second["previous"]
    last = get(q="王", page_size=3, page=3).json()
    assert [hit["line"]["text"] for hit in last["results"]] == ["王氏第7页"] and last["next"] is None
    assert_error(get(q="王", page_size=3, page=4), 404, "NOT_FOUND")
    # A longer query goes through the confirmed path: same paging.
    assert [hit["line"]["text"] for hit in get(q="王氏第", page_size=3, page=3).json()["results"]] == ["王氏第7页"]
    assert get(q="没有的字").json() == {"success": True, "query": "没有的字", "results": [], "count": 0,
                                    "count_exact": True, "next": None, "previous": None}


@pytest.mark.parametrize("params, field", [
    ({"q": ""}, "q"), ({"q": "   "}, "q"), ({}, "q"), ({"q": "陈" * 101}, "q"),
    ({"q": "陈", "page_size": 101}, "page_size"), ({"q": "陈", "page_size": 0}, "page_size"),
    ({"q": "陈", "page": 0}, "page"), ({"q": "陈", "page": "x"}, "page"),
])
def test_bad_parameters_are_400_invalid_parameter(params, field):
    body = assert_error(APIClient().get(URL, params), 400, "INVALID_PARAMETER")
    assert field in body["message"]


@override_settings(API_TOKEN_REQUIRED=True, API_TRUSTED_NETWORKS=["127.0.0.0/8"])
def test_only_the_callers_tasks_are_searched(django_user_model):
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    admin = django_user_model.objects.create_user("admin")
    mine = make_task("张氏族谱", [["张氏族谱一"]], owner=alice)
    theirs = make_task("张氏族谱", [["张氏族谱二"]], owner=bob)
    clients = {}
    for user, scope in ((alice, "read"), (admin, "admin")):
        client = APIClient(REMOTE_ADDR=OUTSIDE)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_create(user=user, name='t', scope=scope)[1]}")
        clients[user.username] = client
    assert_error(APIClient(REMOTE_ADDR=OUTSIDE).get(URL, {"q": "张"}), 401, "UNAUTHENTICATED")
    body = get(clients["alice"], q="张").json()
    assert [hit["task_id"] for hit in body["results"]] == [mine.task_id] and body["count"] == 1
    assert get(clients["alice"], q="张氏族").json()["count"] == 1
    assert_error(get(clients["alice"], q="张", task_id=theirs.task_id), 403, "FORBIDDEN")
    assert get(clients["admin"], q="张").json()["count"] == 2
    assert get(APIClient(REMOTE_ADDR="127.0.0.1"), q="张").json()["count"] == 2  # the machine's operator


def test_a_multi_page_file_reports_the_page_of_the_line():
    make_task("赵氏族谱", [[["赵氏族谱", "序言"], ["世系图", "始祖赵公"]]])
    hit = get(q="始祖").json()["results"][0]
    assert (hit["line"]["page"], hit["line"]["index"], hit["line"]["text"], hit["line"]["box"]) == \
        (2, 3, "始祖赵公", box(1))


def test_the_index_follows_the_results(books):
    first, second = books
    page = OcrResult.objects.get(task=second, sequence=0)
    # A page recorded again with other text (a retried page) is found by its new text only.
    OcrResult.objects.filter(pk=page.pk).update(status="pending")  # as task_retry leaves it
    assert services.page_record(task=second, result=page, fields={
        "success": True, "raw_text": "周氏", "json_data": {"details": details(["周氏"])}})
    assert get(q="周").json()["count"] == 1 and get(q="李氏族").json()["count"] == 0
    assert get(q="李").json()["count"] == 0
    # A page recorded failed leaves nothing to find.
    OcrResult.objects.filter(pk=page.pk).update(status="processing")
    assert services.page_record(task=second, result=page, fields={"success": False, "error_message": "x"})
    assert get(q="周").json()["count"] == 0
    # Rebuilding the task's index from its stored results gives the same rows as recording page by page.
    rows = sorted(SearchPosting.objects.filter(task=first).values_list("gram", "block", "bits"))
    texts = sorted((row.sequence, bytes(row.text)) for row in SearchText.objects.filter(task=first))
    assert search_index.task_reindex(task_pk=first.pk) == 3
    assert sorted(SearchPosting.objects.filter(task=first).values_list("gram", "block", "bits")) == rows
    assert sorted((row.sequence, bytes(row.text)) for row in SearchText.objects.filter(task=first)) == texts
    services.task_delete(task_id=first.task_id)
    assert not SearchText.objects.filter(task_id=first.pk).exists()
    assert not SearchPosting.objects.filter(task_id=first.pk).exists()
    assert get(q="陈").json()["count"] == 1


def test_pages_are_posted_in_groups_then_when_the_task_ends(settings):
    settings.SEARCH_INDEX_BATCH = 4
    task = make_task("周氏族谱", [[f"周氏第{n}页"] for n in range(3)], total_files=6)
    # Three pages wait: stored, not yet found.
    assert SearchText.objects.filter(task=task, posted=False).count() == 3 and get(q="周氏").json()["count"] == 0
    record(task, 3, ["周氏第3页"])  # the fourth makes a group: all four are posted
    assert get(q="周氏").json()["count"] == 4 and not SearchText.objects.filter(task=task, posted=False).exists()
    record(task, 4, ["周氏第4页"])
    assert get(q="周氏").json()["count"] == 4
    record(task, 5, ["周氏第5页"])  # the last page ends the task: what waits is posted with it
    task.refresh_from_db()
    assert task.status == "completed" and get(q="周氏").json()["count"] == 6
    # The rows are those of the task's index built from its results in one go.
    rows = sorted(SearchPosting.objects.filter(task=task).values_list("gram", "block", "bits"))
    assert search_index.task_reindex(task_pk=task.pk) == 6
    assert sorted(SearchPosting.objects.filter(task=task).values_list("gram", "block", "bits")) == rows


def test_waiting_pages_are_posted_by_the_sweeper_and_by_a_cancel(settings):
    from django.core.cache import cache

    from batches.services import recovery

    settings.SEARCH_INDEX_BATCH = 16
    slow = make_task("孙氏族谱", [["孙氏一"], ["孙氏二"]], total_files=100)
    stopped = make_task("钱氏族谱", [["钱氏一"]], total_files=100)
    assert get(q="孙氏").json()["count"] == 0 and get(q="钱氏").json()["count"] == 0
    services.task_cancel(task_id=stopped.task_id)
    assert get(q="钱氏").json()["count"] == 1
    cache.delete(recovery.SWEEP_LOCK)  # an earlier test's sweep may hold this interval
    assert recovery.sweep() is not None and get(q="孙氏").json()["count"] == 2
    assert not SearchText.objects.filter(posted=False).exists()


def test_pages_beyond_a_block_and_the_bounded_confirmation(monkeypatch):
    # 150 pages: three blocks of 64; every third page has 吴氏, the others 吴 alone.
    task = make_task("吴氏族谱", [["吴氏宗亲"] if n % 3 == 0 else ["吴家"] for n in range(150)])
    body = get(q="吴", page_size=100, page=2).json()
    assert body["count"] == 150 and len(body["results"]) == 50
    assert body["results"][0]["relative_path"] == "卷1/101.png"
    assert get(q="吴氏").json()["count"] == 50
    assert get(q="吴氏宗").json()["count"] == 50
    # At most VERIFY_LIMIT candidates are confirmed per request: the count is then a lower bound.
    monkeypatch.setattr(search, "VERIFY_LIMIT", 30)
    bounded = get(q="吴氏宗", page_size=5).json()
    assert (bounded["count"], bounded["count_exact"]) == (30, False)
    assert [hit["relative_path"] for hit in bounded["results"]][:2] == ["卷1/001.png", "卷1/004.png"]
    assert SearchPosting.objects.filter(task=task).values("block").distinct().count() == 3


def test_a_page_read_by_the_engine_is_found(book_dir):
    write_page(book_dir / "001.png", ["陈氏族谱卷一"])
    task = services.task_create(book_id="engine", directory=str(book_dir),
                                options=services.ScanOptions.from_raw({"text_layout": "horizontal"}))
    result = OcrResult.objects.get(task=task)
    assert services.page_process(result_id=result.pk) == "success"
    result.refresh_from_db()
    assert result.raw_text == "陈氏族谱卷一"
    hit = get(q="陳氏族譜").json()["results"][0]  # the traditional form finds the simplified text
    assert hit["page_id"] == result.page_id and hit["line"]["text"] == "陈氏族谱卷一"
    assert len(hit["line"]["box"]) == 4


def test_the_schema_lists_the_endpoint():
    schema = APIClient().get("/openapi.json").json()
    operation = schema["paths"]["/api/ocr/batch/search"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= \
        {"q", "book_id", "volume", "task_id", "page", "page_size"}
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][ref]["properties"]) >= \
        {"results", "count", "count_exact", "next", "previous"}
