"""Keeps the search index (batches.models.SearchText and SearchPosting) in step with the results.

A page's text (SearchText) is written in the transaction that records it (pages.page_record), under its
task's row lock, as waiting (`posted` false); its grams' bits (SearchPosting) are set later for all the
task's waiting pages at once (post_waiting): the pages of a book share most of their grams, and a posting
row costs the same for the bits of 16 pages as for one (bench/README.md, "Recording a page"). The waiting
pages of a task are posted
- by page_record, when SEARCH_INDEX_BATCH of them wait, when the page ends the task, or when the task is no
  longer active;
- when the task is cancelled (lifecycle.task_cancel);
- by the sweeper, every TASK_SWEEP_INTERVAL, whatever their number (recovery.py): so a page is found by
  search at most that long after it is recorded, in a slow book too, or one that failed.
Every writer of a task's postings holds the task's row lock, which is what makes the merge of a block's bits
safe (SQLite has one writer at a time anyway). Existing results are indexed by task_reindex (migration 0006
and bench/run_search.py).
"""

from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import connection, transaction

from ..models import BatchTask, OcrResult, SearchPosting, SearchText
from ..search_text import page_text, text_grams

BLOCK = 64  # pages per SearchPosting row: the bits of a signed 64-bit integer
_MASK = (1 << BLOCK) - 1
_TEXTS = SearchText._meta.db_table


def signed(bits: int) -> int:
    """Bits 0–63 as the signed 64-bit integer the column stores."""
    return bits - (1 << BLOCK) if bits >> (BLOCK - 1) else bits


def unsigned(value: int) -> int:
    return value & _MASK


# Select expressions of the enclosing query (of batch_tasks), taking the page's sequence: what is stored for
# the page (NULL if nothing), and how many of the task's pages wait to be posted. page_record reads them in
# the statement that locks the task: no query of their own. Only a recording of that same page writes its
# row, and a page is recorded once: a recording that finds the page already done writes nothing, and does
# not use what it read.
PAGE_INDEX_SQL = (f", (SELECT text FROM {_TEXTS} WHERE task_id = {BatchTask._meta.db_table}.id AND sequence = %s)"
                  f" AS indexed, (SELECT COUNT(*) FROM {_TEXTS} WHERE posted = 0 AND task_id = "
                  f"{BatchTask._meta.db_table}.id) AS waiting")


def page_index(*, task_pk: int, sequence: int, volume: str | None, indexed: bytes | None, json_data,
               raw_text: str = "") -> bool:
    """Stores the page's recognised lines to be posted, replacing what was stored for it before (`indexed`,
    read with PAGE_INDEX_SQL: its bits are cleared now; a failed page, with no lines, leaves nothing).
    Returns whether the page now waits to be posted. Call inside the transaction that holds the task's row
    lock."""
    text = page_text(json_data, raw_text)
    if indexed is None:
        if text:
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {_TEXTS} (task_id, sequence, volume, text, posted) "
                               "VALUES (%s, %s, %s, %s, %s)", [task_pk, sequence, volume, text.encode(), False])
        return bool(text)
    # Recorded again (a retried page): its old grams leave the index now, its new ones come with the others.
    block, bit = divmod(sequence, BLOCK)
    _bits_cleared(task_pk, block, text_grams(bytes(indexed).decode()), 1 << bit)
    stored = SearchText.objects.filter(task_id=task_pk, sequence=sequence)
    if text:
        stored.update(text=text.encode(), volume=volume, posted=False)
    else:
        stored.delete()
    return bool(text)


def post_waiting(task_pk: int) -> int:
    """Sets the bits of the task's waiting pages, one row per gram and block for all of them, and marks them
    posted; returns their number. Call inside a transaction that holds the task's row lock. At most
    SEARCH_INDEX_BATCH pages and the ones recorded beside them wait (page_record posts them then)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sequence, text FROM {_TEXTS} WHERE posted = 0 AND task_id = %s", [task_pk])
        waiting = cursor.fetchall()
        if not waiting:
            return 0
        bits = {}
        for sequence, text in waiting:
            block, bit = divmod(sequence, BLOCK)
            for gram in text_grams(bytes(text).decode()):
                bits[gram, block] = bits.get((gram, block), 0) | 1 << bit
        _bits_set(cursor, task_pk, bits)
        cursor.execute(f"UPDATE {_TEXTS} SET posted = 1 WHERE posted = 0 AND task_id = %s", [task_pk])
    return len(waiting)


def post_when_due(*, task_pk: int, waiting: int, task_over: bool) -> int:
    """page_record's rule: posts the task's waiting pages (`waiting` of them, the page just recorded
    included) when SEARCH_INDEX_BATCH of them wait or the task is over; returns the number posted."""
    if waiting and (task_over or waiting >= settings.SEARCH_INDEX_BATCH):
        return post_waiting(task_pk)
    return 0


def post_all_waiting() -> int:
    """Posts the waiting pages of every task (the sweeper: pages of a slow or stopped task wait at most a
    sweep), each task under its row lock; returns the number of pages posted."""
    posted = 0
    for task_pk in SearchText.objects.filter(posted=False).values_list("task_id", flat=True).distinct():
        with transaction.atomic():
            if BatchTask.objects.select_for_update().filter(pk=task_pk).exists():
                posted += post_waiting(task_pk)
    return posted


# The bit operators of MySQL and MariaDB answer unsigned 64-bit integers: cast back to the signed column.
_SET_SQL = {
    "mysql": "ON DUPLICATE KEY UPDATE bits = CAST(bits | VALUES(bits) AS SIGNED)",
    "sqlite": "ON CONFLICT (task_id, gram, block) DO UPDATE SET bits = bits | excluded.bits",
}
_CLEAR_SQL = {"mysql": "CAST(bits & %s AS SIGNED)", "sqlite": "bits & %s"}


def _bits_set(cursor, task_pk: int, bits: dict) -> None:
    """Sets the bits of `bits` ({(gram, block): bits}) in their rows, creating the rows that are missing. The
    values are integers, written into the statement as such: the driver's quoting of thousands of
    parameters cost more than the server's work."""
    table = SearchPosting._meta.db_table
    for chunk in _chunks(bits.items()):
        values = ", ".join(f"({task_pk:d}, {gram:d}, {block:d}, {signed(value):d})"
                           for (gram, block), value in chunk)
        cursor.execute(f"INSERT INTO {table} (task_id, gram, block, bits) VALUES {values} "
                       + _SET_SQL[connection.vendor])


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
