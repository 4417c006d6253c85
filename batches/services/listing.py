"""Listing a scan's directory into its pages: what a task does while it is `scanning`.

`task_list_files` lists the directory (scanning.iter_scan_files, streamed), sorts the files in book order,
writes their OcrResult rows CHUNK at a time with their final `sequence`, then moves the task to `pending`
(or straight on to `queued` when it is to start: auto_start, or started meanwhile). It runs as the
`batches.list_task_files` job on a worker for a large tree, inside the request for a small one
(scanning.task_create), and in `manage.py scan --inline`'s own process.

- Memory: book order needs every path before the first sequence is known, so the listing keeps, per file,
  its name and a compact sort key (filenames.book_order_bytes): some 300 bytes a file, 31 MB measured for
  100,000 files (bench/run_scan_scale.py); no model object or row tuple exists for more than a chunk of
  them, and no row is written twice.
- Every CHUNK files (listed, then written) the task row is locked, which cancel takes too: a task cancelled
  while `scanning` stops at the next chunk. `total_files` counts the files listed so far.
- A run of the listing owns the task (its id in `celery_task_id`, the seed's column for it): a listing that
  is run again (worker killed, message lost and re-sent by the sweeper, retry after a cancel) starts from
  scratch, deleting the rows of the former run, and a former run still going stops at its next chunk. So
  every file has exactly one row, numbered once, however many runs there were (and the unique (task,
  path_hash) index would refuse a second).
"""

import logging
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from core.ids import new_uuid
from core.statuses import PageStatus, TaskStatus
from ocrsite.celery import app

from ..filenames import book_order_bytes, parse_position
from ..models import BatchTask, OcrResult
from . import lifecycle, scanning

logger = logging.getLogger("batches.services")

CHUNK = 2000
LISTING_JOB = "batches.list_task_files"
# The columns a new row sets; the others are NULL. Rows are written by one multi-row INSERT per chunk
# (executemany): bulk_create's per-field preparation took four fifths of the time of a 100,000-file listing.
ROW_COLUMNS = ("task_id", "book_id", "page_id", "file_name", "relative_path", "path_hash", "sequence", "volume",
               "page_number", "status", "success", "raw_text", "error_message", "attempts", "interrupted",
               "claimed_by", "content_hash", "created_at", "updated_at")


def send_listing(task: BatchTask, *, fail_task: bool = True) -> bool:
    """Sends the job that lists a `scanning` task's directory (by name through the Celery app, like
    dispatch.py); returns whether it went. When the broker cannot take it: with fail_task the task is failed
    with BROKER_UNAVAILABLE (a retry lists it again) and BrokerUnavailable raised, for the caller to answer
    503; without (the sweeper), it is logged and the task left as it is."""
    try:
        app.send_task(LISTING_JOB, args=[task.task_id], priority=task.priority, retry=False)
    except Exception as error:  # the broker's connection errors come in several types
        if fail_task:
            lifecycle.task_fail_broker_unavailable(task, error)  # raises BrokerUnavailable
        logger.warning("task %s: listing not sent again (broker: %s)", task.task_id, error)
        return False
    # The sweeper sends it again if the task's listing has not moved for a lease from now.
    BatchTask.objects.filter(pk=task.pk).update(updated_at=timezone.now())
    return True


def task_list_files(*, task_id: str, run: str = "", on_progress=None, send: bool = True) -> BatchTask:
    """Lists the directory of a `scanning` task into its pages (see the module's docstring) and returns the
    task as it is then: pending, queued (or completed, for an empty directory) once listed; cancelled or
    failed if that happened meanwhile; as it is when another run took the listing over. A task that is not
    `scanning` is left alone. run: this run's id (the job's; default a new one). on_progress(listed, written)
    is called after each chunk; send=False leaves the pages of a task that starts to an in-process runner."""
    task = lifecycle.get_task(task_id)
    run = run or new_uuid()
    with transaction.atomic():
        if not _owns(task, run, take=True):
            return _stopped(task, run)
        OcrResult.objects.filter(task=task).delete()  # a former run's rows: this run starts from scratch
    files = []
    for name in scanning.iter_scan_files(Path(task.source_directory), recursive=task.recursive,
                                         file_patterns=task.file_patterns):
        stored = scanning.scan_file(name).relative_path
        files.append((book_order_bytes(stored, parse_position(stored)), name))
        if len(files) % CHUNK == 0:
            if not _progress(task, run, len(files)):
                return _stopped(task, run)
            if on_progress:
                on_progress(len(files), 0)
    files.sort()  # book order; two names with one key (`A.png`, `a.png`) in the order of their names
    if not _progress(task, run, len(files)):
        return _stopped(task, run)
    for first in range(0, len(files), CHUNK):
        if not _write(task, run, files[first:first + CHUNK], first):
            return _stopped(task, run)
        if on_progress:
            on_progress(len(files), min(first + CHUNK, len(files)))
    return _finish(task, run, send)


def _owns(task: BatchTask, run: str, *, take: bool = False, **changes) -> bool:
    """Locks the task row (until the caller's transaction ends) and tells whether it is `scanning` and this
    run's to list (take: makes it so). If it is, applies changes and marks the task as moving (updated_at:
    the sweeper's sign of life)."""
    current = (BatchTask.objects.select_for_update().filter(pk=task.pk)
               .values_list("status", "celery_task_id").first())
    if current is None or current[0] != TaskStatus.SCANNING or (current[1] != run and not take):
        return False
    BatchTask.objects.filter(pk=task.pk).update(celery_task_id=run, updated_at=timezone.now(), **changes)
    return True


def _progress(task: BatchTask, run: str, listed: int) -> bool:
    with transaction.atomic():
        return _owns(task, run, total_files=listed)


def _write(task: BatchTask, run: str, files: list[tuple[bytes, str]], first_sequence: int) -> bool:
    """The rows of one chunk of files in book order, sequence first_sequence on, unless the run lost the
    task."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for offset, (_, name) in enumerate(files):
        file = scanning.scan_file(name)
        position = parse_position(file.relative_path)
        # A file its row cannot name is failed now: no worker could open it by that name.
        status, success, error = (PageStatus.PENDING, None, "") if file.error is None else \
            (PageStatus.FAILED, False, f"{file.error.code}: {file.error.message}")
        rows.append((task.task_id, task.book_id, new_uuid(), Path(file.relative_path).name[:255],
                     file.relative_path, file.path_hash, first_sequence + offset,
                     None if position.volume is None else str(position.volume), position.page, status, success,
                     "", error, 0, 0, "", "", now, now))
    with transaction.atomic():
        if not _owns(task, run):
            return False
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {OcrResult._meta.db_table} ({', '.join(ROW_COLUMNS)}) "
                               f"VALUES ({', '.join(['%s'] * len(ROW_COLUMNS))})", rows)
    return True


def _finish(task: BatchTask, run: str, send: bool) -> BatchTask:
    """scanning → pending with the counters of the rows, and on to queued when the task is to start (in the
    same transaction: a listing that ends is never left pending by mistake)."""
    with transaction.atomic():
        if not _owns(task, run, status=TaskStatus.PENDING, listing_done=True):
            return _stopped(task, run)
        lifecycle.recount(task.pk)
        lifecycle.book_totals_refresh(task.book_id)
        task.refresh_from_db()
        logger.info("task %s: %d files listed in %s", task.task_id, task.total_files, task.source_directory)
        if task.start_when_listed:
            task = lifecycle.task_start(task_id=task.task_id, send=send)
    task.refresh_from_db()
    return task


def _stopped(task: BatchTask, run: str) -> BatchTask:
    task.refresh_from_db()
    why = f"task {task.status}" if task.status != TaskStatus.SCANNING else f"taken over by {task.celery_task_id}"
    logger.info("task %s: listing %s stopped (%s)", task.task_id, run, why)
    return task
