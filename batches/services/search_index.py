"""Keeps the search index (batches.models.SearchText and SearchPosting) in step with the results.

A page is indexed in the transaction that records it (pages.page_record), under its task's row lock. That
lock is what makes the read-merge-write of a block's bits safe: every writer of a task's postings holds it
(and SQLite has one writer at a time anyway). Existing results are indexed by task_reindex (migration 0006
and bench/run_search.py).
"""

from collections.abc import Iterable, Iterator

from django.db import connection

from ..models import BatchTask, OcrResult, SearchPosting, SearchText
from ..search_text import page_text, text_grams

BLOCK = 64  # pages per SearchPosting row: the bits of a signed 64-bit integer
_MASK = (1 << BLOCK) - 1


def signed(bits: int) -> int:
    """Bits 0–63 as the signed 64-bit integer the column stores."""
    return bits - (1 << BLOCK) if bits >> (BLOCK - 1) else bits


def unsigned(value: int) -> int:
    return value & _MASK


# What is indexed for a page of the task of the enclosing query (of batch_tasks), or NULL, as a select
# expression taking the page's sequence: page_record reads it in the statement that locks the task and hands it
# to page_index, one query fewer a page. Only a recording of that same page writes its row, and a page is
# recorded once: a recording that finds the page already done writes nothing, and does not use what it read.
INDEXED_TEXT_SQL = (f", (SELECT text FROM {SearchText._meta.db_table} WHERE task_id = "
                    f"{BatchTask._meta.db_table}.id AND sequence = %s) AS indexed")


def page_index(*, task_pk: int, sequence: int, volume: str | None, indexed: bytes | None, json_data,
               raw_text: str = "") -> None:
    """Indexes the page's recognised lines, replacing what was indexed for it before (`indexed`, read under
    the lock with INDEXED_TEXT_SQL; a failed page, with no lines, leaves nothing). Call inside the transaction
    that holds the task's row lock."""
    text, old = page_text(json_data, raw_text), indexed
    stored = SearchText.objects.filter(task_id=task_pk, sequence=sequence)
    if old is None and not text:
        return
    if not text:
        stored.delete()
    elif not stored.update(text=text.encode(), volume=volume):
        SearchText.objects.create(task_id=task_pk, sequence=sequence, volume=volume, text=text.encode())
    old_grams = text_grams(bytes(old).decode()) if old is not None else set()
    new_grams = text_grams(text)
    block, bit = divmod(sequence, BLOCK)
    # One statement each way, without reading the rows first: a page has hundreds of grams, and a read, a
    # delete and an insert of each cost several times more (bench/README.md, "Recording a page").
    _bits_set(task_pk, block, new_grams - old_grams, 1 << bit)
    _bits_cleared(task_pk, block, old_grams - new_grams, 1 << bit)


# The bit operators of MySQL and MariaDB answer unsigned 64-bit integers: cast back to the signed column.
_SET_SQL = {
    "mysql": "ON DUPLICATE KEY UPDATE bits = CAST(bits | VALUES(bits) AS SIGNED)",
    "sqlite": "ON CONFLICT (task_id, gram, block) DO UPDATE SET bits = bits | excluded.bits",
}
_CLEAR_SQL = {"mysql": "CAST(bits & %s AS SIGNED)", "sqlite": "bits & %s"}


def _bits_set(task_pk: int, block: int, grams: set, bit: int) -> None:
    """Sets `bit` in the block's rows of `grams`, creating the rows that are missing."""
    table = SearchPosting._meta.db_table
    with connection.cursor() as cursor:
        for chunk in _chunks(grams):
            cursor.execute(f"INSERT INTO {table} (task_id, gram, block, bits) VALUES "
                           + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)) + " " + _SET_SQL[connection.vendor],
                           [value for gram in chunk for value in (task_pk, gram, block, signed(bit))])


def _bits_cleared(task_pk: int, block: int, grams: set, bit: int) -> None:
    """Clears `bit` in the block's rows of `grams`, deleting the rows left with no page."""
    table = SearchPosting._meta.db_table
    with connection.cursor() as cursor:
        for chunk in _chunks(grams):
            cursor.execute(f"UPDATE {table} SET bits = {_CLEAR_SQL[connection.vendor]} "
                           f"WHERE task_id = %s AND block = %s AND gram IN ({', '.join(['%s'] * len(chunk))})",
                           [signed(_MASK & ~bit), task_pk, block, *chunk])
            SearchPosting.objects.filter(task_id=task_pk, block=block, gram__in=chunk, bits=0).delete()


def _chunks(items: Iterable, size: int = 1000) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def block_rows(pages: Iterable[tuple[int, str | None, str]]) -> Iterator[tuple[list, list]]:
    """The SearchText rows (sequence, volume, text) and SearchPosting rows (gram, block, bits) of a task's
    pages, given as (sequence, volume, normalised text) in sequence order, one block of BLOCK pages at a
    time, so that memory stays bounded."""
    texts, grams, current = [], {}, None
    for sequence, volume, text in pages:
        block, bit = divmod(sequence, BLOCK)
        if block != current and texts:
            yield texts, [(gram, current, signed(bits)) for gram, bits in grams.items()]
            texts, grams = [], {}
        current = block
        if not text:
            continue
        texts.append((sequence, volume, text.encode()))
        for gram in text_grams(text):
            grams[gram] = grams.get(gram, 0) | 1 << bit
    if texts:
        yield texts, [(gram, current, signed(bits)) for gram, bits in grams.items()]


def rows_insert(task_pk: int, texts: list, postings: list, using=None) -> None:
    """Inserts block_rows' rows with plain executemany (Django model instances cost more than the insert for
    millions of postings), on the `using` connection (default: the default database)."""
    with (using or connection).cursor() as cursor:
        cursor.executemany(f"INSERT INTO {SearchText._meta.db_table} (task_id, sequence, volume, text) "
                           "VALUES (%s, %s, %s, %s)", [(task_pk, *row) for row in texts])
        for chunk in _chunks(postings):
            cursor.executemany(f"INSERT INTO {SearchPosting._meta.db_table} (task_id, gram, block, bits) "
                               "VALUES (%s, %s, %s, %s)", [(task_pk, *row) for row in chunk])


def task_reindex(*, task_pk: int, batch_size: int = 500) -> int:
    """Indexes every successful page of the task from its stored results, replacing its index; returns the
    number of pages indexed."""
    SearchText.objects.filter(task_id=task_pk).delete()
    SearchPosting.objects.filter(task_id=task_pk).delete()
    task_id = BatchTask.objects.filter(pk=task_pk).values_list("task_id", flat=True).get()
    count = 0
    for texts, postings in block_rows(stored_pages(OcrResult.objects.filter(task_id=task_id), batch_size)):
        rows_insert(task_pk, texts, postings)
        count += len(texts)
    return count


def stored_pages(results, batch_size: int = 500) -> Iterator[tuple[int, str | None, str]]:
    """(sequence, volume, normalised text) of the successful pages among `results` (one task's OcrResult
    rows, of any model class with their fields), in sequence order, batch_size rows at a time by keyset
    pagination."""
    results = results.filter(success=True).order_by("sequence").values_list("sequence", "volume", "json_data",
                                                                             "raw_text")
    last = -1
    while True:
        batch = list(results.filter(sequence__gt=last)[:batch_size])
        for sequence, volume, json_data, raw_text in batch:
            yield sequence, volume, page_text(json_data, raw_text)
        if len(batch) < batch_size:
            return
        last = batch[-1][0]
