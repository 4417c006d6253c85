"""Search across books (GET /api/ocr/batch/search): the pages whose recognised lines contain the query, in
book order (book, then its scans oldest first, then the scan's page order), each with the first line that
has it, that line's box and a snippet around the hit.

How (the text in batches/search_text.py, the index in batches/models.py):

1. the tasks the caller may see (core.access.Principal), filtered by book or task, in book order;
2. the postings of the query's grams in those tasks: per block of 64 pages, the AND of the grams' bits are
   the candidate pages;
3. a query of one or two characters (and no volume filter) is a gram: its candidates are its hits, counted
   exactly from the bits however many they are. Other candidates are confirmed against SearchText in book
   order, at most VERIFY_LIMIT of them per request: beyond that `count` is a lower bound (`count_exact`
   false) and paging reaches the hits found;
4. the requested page of hits is read from OcrResult (≤ page_size rows) for its lines and boxes.

Every step reads a bounded number of rows whatever the size of the books: the tasks, at most (blocks ×
grams) postings, at most VERIFY_LIMIT texts, page_size results.
"""

from dataclasses import dataclass

from django.db.models import BinaryField, Value
from django.db.models.functions import StrIndex

from core.errors import InvalidParameter

from .models import BatchTask, OcrResult, SearchPosting, SearchText
from .search_text import Hit, line_hits, normalise, query_grams, result_lines, snippet
from .selectors import task_get_visible, task_list, volume_value
from .services.search_index import BLOCK, unsigned

# Candidate pages confirmed per request: reading their texts is what a longer query costs (bench/run_search.py:
# 20,000 took 0.8 s on MariaDB with its default 128 MB buffer pool, 0.16 s on SQLite).
VERIFY_LIMIT = 2_000
VERIFY_BATCH = 500
TASK_BATCH = 500
SNIPPET_CONTEXT = 12  # characters each side of the hit


@dataclass(frozen=True)
class SearchFilters:
    book_id: str = ""
    volume: str = ""
    task_id: str = ""


@dataclass(frozen=True)
class SearchPage:
    query: str  # as compared: normalised
    results: list[dict]
    count: int
    count_exact: bool
    has_next: bool


def search_query(raw: str) -> str:
    """The query as the index compares it; INVALID_PARAMETER when nothing searchable is left."""
    query = normalise(raw or "")
    if not query:
        raise InvalidParameter("请输入要检索的文字（q 不能为空）", field="q")
    return query


def search_pages(*, q: str, principal, filters: SearchFilters = SearchFilters(), page: int = 1,
                 page_size: int = 20) -> SearchPage:
    query = search_query(q)
    tasks = _tasks_in_book_order(principal, filters)
    candidates = _candidates(tasks, query_grams(query))
    offset = (page - 1) * page_size
    if len(query) <= 2 and not filters.volume:
        hits, count, exact = _gram_hits(candidates, offset, page_size), _bit_count(candidates), True
    else:
        found, exact = _confirmed(candidates, query, filters.volume)
        hits, count = found[offset:offset + page_size], len(found)
    results = _results(hits, {task.pk: task for task in tasks}, query)
    return SearchPage(query, results, count, exact, has_next=count > offset + page_size)


def _tasks_in_book_order(principal, filters: SearchFilters) -> list[BatchTask]:
    if filters.task_id:
        task = task_get_visible(filters.task_id, principal)
        return [task] if not filters.book_id or task.book_id == filters.book_id else []
    tasks = task_list(book_id=filters.book_id or None, owner=principal)
    return list(tasks.order_by("book_id", "created_at", "id").only("id", "task_id", "book_id"))


def _candidates(tasks: list[BatchTask], grams: list[int]) -> list[tuple[int, int, int]]:
    """(task pk, block, bits) of the blocks where some page has every gram, in book order."""
    order = {task.pk: position for position, task in enumerate(tasks)}
    blocks: dict[tuple[int, int], list[int]] = {}
    pks = list(order)
    for start in range(0, len(pks), TASK_BATCH):
        rows = (SearchPosting.objects.filter(task_id__in=pks[start:start + TASK_BATCH], gram__in=grams)
                .values_list("task_id", "block", "bits"))
        for task_pk, block, bits in rows:
            blocks.setdefault((task_pk, block), []).append(unsigned(bits))
    candidates = []
    for (task_pk, block), bits in blocks.items():
        if len(bits) < len(grams):
            continue  # a gram has no page in this block
        both = bits[0]
        for more in bits[1:]:
            both &= more
        if both:
            candidates.append((task_pk, block, both))
    candidates.sort(key=lambda item: (order[item[0]], item[1]))
    return candidates


def _bit_count(candidates) -> int:
    return sum(bits.bit_count() for _, _, bits in candidates)


def _sequences(block: int, bits: int):
    while bits:
        low = bits & -bits
        yield block * BLOCK + low.bit_length() - 1
        bits ^= low


def _gram_hits(candidates, offset: int, size: int) -> list[tuple[int, int]]:
    """(task pk, sequence) of hits offset to offset + size, skipping whole blocks by their bit counts."""
    hits = []
    for task_pk, block, bits in candidates:
        count = bits.bit_count()
        if offset >= count:
            offset -= count
            continue
        for sequence in _sequences(block, bits):
            if offset:
                offset -= 1
            elif len(hits) < size:
                hits.append((task_pk, sequence))
        if len(hits) >= size:
            break
    return hits


def _confirmed(candidates, query: str, volume: str) -> tuple[list[tuple[int, int]], bool]:
    """The candidates whose text contains the query (and in `volume`, if given), in book order, confirming
    at most VERIFY_LIMIT of them; and whether every candidate was confirmed."""
    needle = Value(query.encode(), output_field=BinaryField())
    found, batch, checked = [], [], 0
    batch_task = None

    def confirm():
        rows = SearchText.objects.filter(task_id=batch_task, sequence__in=batch)
        if volume:
            rows = rows.filter(volume=volume)
        matched = set(rows.alias(at=StrIndex("text", needle)).filter(at__gt=0).values_list("sequence", flat=True))
        found.extend((batch_task, sequence) for sequence in batch if sequence in matched)
        batch.clear()

    for task_pk, block, bits in candidates:
        for sequence in _sequences(block, bits):
            if checked == VERIFY_LIMIT:
                confirm()
                return found, False
            if batch and (task_pk != batch_task or len(batch) == VERIFY_BATCH):
                confirm()
            batch_task = task_pk
            batch.append(sequence)
            checked += 1
    if batch:
        confirm()
    return found, True


def _results(hits: list[tuple[int, int]], tasks: dict, query: str) -> list[dict]:
    by_task: dict[int, list[int]] = {}
    for task_pk, sequence in hits:
        by_task.setdefault(task_pk, []).append(sequence)
    rows = {}
    for task_pk, sequences in by_task.items():
        for result in (OcrResult.objects.filter(task_id=tasks[task_pk].task_id, sequence__in=sequences)
                       .only("task_id", "book_id", "page_id", "relative_path", "volume", "page_number", "sequence",
                             "json_data", "raw_text")):
            rows[(task_pk, result.sequence)] = result
    return [hit_payload(rows[hit], query) for hit in hits if hit in rows]


def hit_payload(result: OcrResult, query: str) -> dict:
    lines = result_lines(result.json_data, result.raw_text)
    hits = line_hits(lines, query)
    first: Hit | None = hits[0] if hits else None
    payload = {"task_id": result.task_id, "book_id": result.book_id, "page_id": result.page_id,
               "relative_path": result.relative_path, "volume": volume_value(result.volume),
               "page_number": result.page_number, "snippet": "", "hits": len(hits), "line": None}
    if first is not None:
        text, start, end = snippet(first, SNIPPET_CONTEXT)
        payload["snippet"] = text
        payload["line"] = {"text": first.line.text, "box": first.line.box, "index": first.line.index,
                           "page": first.line.page, "start": first.start, "end": first.end,
                           "snippet_start": start, "snippet_end": end}
    return payload
