"""The task's state machine: start, cancel, retry, delete, completion, and the counters and fingerprint that
move with it.

`scanning` (its directory is listed into pages, listing.py) → `pending` → `queued` (started: the first
window of pages is sent) → `processing` (a worker claimed a page)
→ `completed` (every page done) | `failed` (broker refused the start, engine unavailable) | `cancelled`.
While a task is unfinished its `active_fingerprint` holds sha256(directory + options), whose unique index
makes duplicate detection atomic; it is cleared when the task finishes.

Starting or retrying a task that is still running re-sends what is unfinished (see dispatch.resend), so an
operator can always push a stalled book on; the sweeper (recovery.py) does the same by itself.
"""

import hashlib
import json
import logging
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from books.services import book_delete, book_totals_set
from core.statuses import ACTIVE_STATUSES, DONE_PAGE_STATUSES, FINISHED_STATUSES, UNFINISHED_STATUSES, PageStatus, \
    TaskStatus

from .. import errors, selectors
from ..models import BatchTask, OcrResult
from . import dispatch, listing, search_index

logger = logging.getLogger("batches.services")


# --- Fingerprint -------------------------------------------------------------------------------------------

def task_fingerprint(*, source_directory: str, lang: str, use_angle_cls: bool, text_layout: str,
                     output_format: str, recursive: bool, file_patterns) -> str:
    """sha256 of the resolved directory and the options: equal for scans that would do the same work."""
    patterns = sorted({p.lower() for p in file_patterns}) if file_patterns else None
    key = json.dumps([source_directory, lang, bool(use_angle_cls), text_layout, output_format, bool(recursive),
                      patterns], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def fingerprint_of(task: BatchTask) -> str | None:
    if not settings.TASK_DUPLICATE_DETECTION:
        return None
    return task_fingerprint(source_directory=task.source_directory, lang=task.lang,
                            use_angle_cls=task.use_angle_cls, text_layout=task.text_layout,
                            output_format=task.output_format, recursive=task.recursive,
                            file_patterns=task.file_patterns)


def duplicate_error(fingerprint: str) -> errors.DuplicateTask:
    existing = BatchTask.objects.filter(active_fingerprint=fingerprint).first()
    payload = None
    if existing is not None:
        payload = {"task_id": existing.task_id, "status": existing.status, "progress": float(existing.progress)}
    return errors.DuplicateTask(
        f"相同目录和选项的任务尚未结束：{existing.task_id}" if existing else None, existing_task=payload)


# --- Counters and completion -------------------------------------------------------------------------------

def get_task(task_id: str, *, lock: bool = False) -> BatchTask:
    queryset = BatchTask.objects.select_for_update() if lock else BatchTask.objects
    task = queryset.filter(task_id=str(task_id)).first()
    if task is None:
        raise errors.TaskNotFound()
    return task


def complete_if_done(task_pk: int) -> bool:
    """Completes an active task whose pages are all done (call inside a transaction). Returns whether it did."""
    return bool(BatchTask.objects.filter(pk=task_pk, status__in=ACTIVE_STATUSES,
                                         processed_files__gte=F("total_files")).update(
        status=TaskStatus.COMPLETED, progress=Decimal("100.00"), completed_at=timezone.now(),
        active_fingerprint=None, updated_at=timezone.now()))


def recount(task_pk: int) -> None:
    """Sets the task's counters from its rows (after changing many rows at once: creation, retry)."""
    counts = OcrResult.objects.filter(task_id=BatchTask.objects.get(pk=task_pk).task_id).aggregate(
        success=Count("pk", filter=Q(status=PageStatus.SUCCESS)),
        failed=Count("pk", filter=Q(status=PageStatus.FAILED)),
        total=Count("pk"))
    processed = counts["success"] + counts["failed"]
    progress = Decimal(processed * 100 / counts["total"] if counts["total"] else 100).quantize(Decimal("0.01"))
    BatchTask.objects.filter(pk=task_pk).update(total_files=counts["total"], processed_files=processed,
                                                success_files=counts["success"], failed_files=counts["failed"],
                                                progress=progress)


# --- Start, retry ------------------------------------------------------------------------------------------

def task_start(*, task_id: str, send: bool = True) -> BatchTask:
    """pending → queued, and the first window of pages goes to the workers. On a task already running, sends
    again what is unfinished (resend_unfinished). InvalidTaskState for a finished or cancelled task (retry it
    instead). With send=False nothing is sent: the pages are left for an in-process runner (`scan --inline`)."""
    with transaction.atomic():
        task = get_task(task_id, lock=True)
        if task.status in ACTIVE_STATUSES:
            if send:
                _resend_unfinished(task)
            return task
        if task.status == TaskStatus.SCANNING:
            # Its pages are not all known yet: the listing starts the task the moment it ends.
            BatchTask.objects.filter(pk=task.pk).update(start_when_listed=True)
            task.refresh_from_db()
            return task
        if task.status in FINISHED_STATUSES:
            raise errors.InvalidTaskState(f"任务已结束（{task.status}），请使用重试", status=task.status)
        BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.QUEUED, updated_at=timezone.now())
        complete_if_done(task.pk)
        if send:
            _send_first_window(task)
        # Read before the commit sends the window: the caller reports the state this start left (a worker
        # may claim a page, making the task `processing`, before the response is written).
        task.refresh_from_db()
    return task


def task_retry(*, task_id: str, send: bool = True) -> tuple[BatchTask, int]:
    """Runs again only the pages that failed or never ran; done pages are kept. For a finished task
    (completed, failed, cancelled): returns the task and the number of pages to run. For a task still running:
    sends again what is unfinished and returns the number of pages sent (with send=False: of pages not done).
    DuplicateTask if another unfinished task now covers the same directory and options."""
    try:
        with transaction.atomic():
            task = get_task(task_id, lock=True)
            if task.status in ACTIVE_STATUSES:
                if send:
                    return task, _resend_unfinished(task)
                return task, OcrResult.objects.filter(task=task).exclude(status__in=DONE_PAGE_STATUSES).count()
            pages = OcrResult.objects.filter(task=task).exclude(status=PageStatus.SUCCESS)
            count = pages.count()
            if task.status in (TaskStatus.PENDING, TaskStatus.SCANNING):
                return task_start(task_id=task_id, send=send), count
            if count == 0 and task.listing_done:
                return task, 0
            now = timezone.now()
            pages.update(status=PageStatus.PENDING, success=None, error_message="", claimed_at=None, claimed_by="",
                         lease_expires_at=None, sent_at=None, interrupted=0, updated_at=now)
            recount(task.pk)
            # A task cancelled or failed while scanning lists its directory again (resuming), then starts.
            BatchTask.objects.filter(pk=task.pk).update(
                status=TaskStatus.QUEUED if task.listing_done else TaskStatus.SCANNING, start_when_listed=True,
                completed_at=None, error_message="", active_fingerprint=fingerprint_of(task), updated_at=now)
            if send and task.listing_done:
                _send_first_window(task)
            elif send:
                transaction.on_commit(partial(listing.send_listing, task))
            task.refresh_from_db()  # before the commit sends anything, as in task_start
    except IntegrityError:
        raise duplicate_error(fingerprint_of(task)) from None
    logger.info("task %s retried: %d pages", task.task_id, count)
    return task, count


def _send_first_window(task: BatchTask) -> None:
    """Marks the first window (under the task row lock the caller holds) and sends it after the commit. When
    the broker cannot take it the task is marked failed with BROKER_UNAVAILABLE, so that retry can send it
    later, and the caller gets a 503."""
    transaction.on_commit(partial(_send_or_fail, task, dispatch.top_up(task)))


def _send_or_fail(task: BatchTask, ids: list[int]) -> None:
    try:
        dispatch.send(task, ids)
    except Exception as error:  # the broker's connection errors come in several types
        task_fail_broker_unavailable(task, error)


def task_fail_broker_unavailable(task: BatchTask, error: Exception) -> None:
    """The broker refused what starting the task sends (its first window, or its listing job): the task is
    failed with BROKER_UNAVAILABLE, so that retry sends it later, and BrokerUnavailable (503) raised."""
    logger.error("task %s: broker unavailable: %s", task.task_id, error)
    BatchTask.objects.filter(pk=task.pk, status__in=(*ACTIVE_STATUSES, TaskStatus.SCANNING)).update(
        status=TaskStatus.FAILED, error_message=f"BROKER_UNAVAILABLE: {error}", completed_at=timezone.now(),
        active_fingerprint=None, updated_at=timezone.now())
    raise errors.BrokerUnavailable(task_id=task.task_id) from error


def _resend_unfinished(task: BatchTask) -> int:
    """A running task pushed on by hand (start, retry): every waiting page and every page whose lease expired
    is sent again, and the window topped up. The task stays running when the broker refuses: the caller gets
    a 503 and the sweeper sends the pages once the broker is back."""
    ids = dispatch.resend(task, waiting_sent_before=timezone.now()) + dispatch.top_up(task)
    complete_if_done(task.pk)
    transaction.on_commit(partial(_resend_or_refuse, task, ids))
    logger.info("task %s: %d unfinished pages sent again", task.task_id, len(ids))
    return len(ids)


def _resend_or_refuse(task: BatchTask, ids: list[int]) -> None:
    try:
        dispatch.send(task, ids)
    except Exception as error:
        logger.error("task %s: broker unavailable: %s", task.task_id, error)
        raise errors.BrokerUnavailable("任务队列不可用：任务仍在运行，队列恢复后会自动重新投递",
                                       task_id=task.task_id) from error


# --- Cancel, delete ----------------------------------------------------------------------------------------

def task_cancel(*, task_id: str) -> BatchTask:
    """Cancels a scanning, pending, queued or processing task: no page starts afterwards, and a listing stops
    at its next chunk (pages already running finish
    and are recorded); the at most one window of messages still queued is dropped by the workers before any
    work. Idempotent for a cancelled task; InvalidTaskState for a completed or failed one."""
    with transaction.atomic():
        task = get_task(task_id, lock=True)
        if task.status == TaskStatus.CANCELLED:
            return task
        if task.status not in UNFINISHED_STATUSES:
            raise errors.InvalidTaskState(f"任务已结束（{task.status}），无法取消", status=task.status)
        now = timezone.now()
        BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED, completed_at=now,
                                                    active_fingerprint=None, error_message="已取消",
                                                    updated_at=now)
        search_index.post_waiting(task.pk)  # what was read stays searchable
    task.refresh_from_db()
    logger.info("task %s cancelled", task.task_id)
    return task


def task_delete(*, task_id: str) -> None:
    """Deletes the task, its results, its export records and (exports/signals.py) files; a running task is
    cancelled first. Its queued messages name rows that are gone: the workers drop them."""
    task = get_task(task_id)
    if task.status in UNFINISHED_STATUSES:
        task_cancel(task_id=task_id)
    with transaction.atomic():
        get_task(task_id, lock=True)
        OcrResult.objects.filter(task=task).delete()
        task.exports.all().delete()
        BatchTask.objects.filter(pk=task.pk).delete()
        if BatchTask.objects.filter(book_id=task.book_id).exists():
            book_totals_refresh(task.book_id)
        else:
            book_delete(book_id=task.book_id)  # a book is what its scans found: none left, no book
    logger.info("task %s deleted", task_id)


def book_totals_refresh(book_id: str) -> None:
    pages, volumes = selectors.book_totals(book_id)
    book_totals_set(book_id=book_id, total_pages=pages, total_volumes=volumes)
