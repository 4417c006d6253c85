"""One page: its claim and lease, its recognition, its record.

`page_process` is what a worker (or an in-process runner) does with one page:

1. claim it, under the task row lock (cancel takes the same lock, so no page starts after a cancel is
   recorded): skipped when the task is no longer active or the page is done or gone, and skipped too when
   another process holds it under a live lease, since that message is a duplicate. A page found `processing`
   under an expired lease lost its worker: an interruption, and after more than TASK_MAX_RETRIES of them the
   page is recorded failed (WORKER_LOST) rather than crash worker after worker;
2. read it while the process's heartbeat renews the lease every third of TASK_LEASE_SECONDS (leases.py);
   past the task's soft time limit it is recorded failed (TIME_LIMIT_EXCEEDED);
3. record it: the row moves from unfinished to done once, the task's counters are added to in the same
   transaction, so a page delivered twice is counted once, and the window is topped up there (the
   next page is sent after the commit). The page that makes processed_files reach total_files completes the
   task.

The holder of a claim is a worker's node name and the pid of the process that reads the page, so a worker
restarted under the same node name is another holder.
"""

import hashlib
import logging
import os
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from billiard.pool import SIG_SOFT_TIMEOUT
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import errors as core_errors
from core.paths import inside_scan_roots
from core.statuses import ACTIVE_STATUSES, DONE_PAGE_STATUSES, PageStatus, TaskStatus
from recognition import errors as recognition_errors

from .. import errors
from ..models import BatchTask, OcrResult
from . import dispatch, lifecycle, listing, scanning, search_index
from .leases import lease_heartbeat
from .rows import locked_row, update_rows

logger = logging.getLogger("batches.services")


def holder_name(node: str = "") -> str:
    """This process as the holder of a claim: the worker's node name (or this host, for an in-process
    runner) and the pid."""
    return f"{node or 'inline@' + socket.gethostname()} pid {os.getpid()}"[:255]


def node_holders(node: str) -> dict:
    """The filter of claims held by any process of a worker node name."""
    return {"claimed_by__startswith": f"{node} pid "}


# --- Claim and lease ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    result: OcrResult  # the fields of CLAIMED_FIELDS, as the claim left them
    task: BatchTask
    give_up: bool  # interrupted more than TASK_MAX_RETRIES times: record it failed instead of reading it


# What a page job needs of the page's row and of its task's, read once each by the claim, under their locks.
CLAIMED_FIELDS = ("pk", "task_id", "relative_path", "path_hash", "sequence", "volume", "status", "interrupted",
                  "claimed_by", "lease_expires_at", "sent_at")
CLAIMED_TASK_FIELDS = ("pk", "task_id", "status", "started_at", "source_directory", "lang", "use_angle_cls",
                       "text_layout", "output_format")


def page_claim(result_id: int, holder: str, resume: str = "") -> Claim | None:
    """Takes the page for `holder` with a fresh lease, or None when there is nothing to do (logged).
    `resume` is the holder of an earlier attempt of the same job (a retry after a database error): its claim
    is taken over as it is, not counted as an interruption."""
    with transaction.atomic():
        # The page's task is found and locked in one statement; none means either is deleted.
        task = locked_row(BatchTask, CLAIMED_TASK_FIELDS,
                          f"task_id = (SELECT task_id FROM {OcrResult._meta.db_table} WHERE id = %s)", [result_id])
        if task is None or task.status not in ACTIVE_STATUSES:
            logger.info("page #%s: skipped (%s)", result_id,
                        f"task {task.task_id} {task.status}" if task else "page or task deleted")
            return None
        result = locked_row(OcrResult, CLAIMED_FIELDS, "id = %s", [result_id])
        if result is None or result.status in DONE_PAGE_STATUSES:
            logger.info("page #%s of task %s: skipped (already done)", result_id, task.task_id)
            return None
        now = timezone.now()
        if result.status == PageStatus.PROCESSING and result.claimed_by not in {holder, resume} - {""}:
            if result.lease_expires_at and result.lease_expires_at > now:
                logger.info("page #%s of task %s: skipped (duplicate delivery: %s holds it until %s)", result_id,
                            task.task_id, result.claimed_by, result.lease_expires_at.isoformat())
                return None
            result.interrupted += 1  # its holder let the lease run out: gone
        result.status, result.claimed_by = PageStatus.PROCESSING, holder
        result.lease_expires_at = now + timedelta(seconds=settings.TASK_LEASE_SECONDS)
        update_rows(OcrResult, [result_id], {"status": result.status, "claimed_at": now, "claimed_by": holder,
                                             "lease_expires_at": result.lease_expires_at,
                                             "interrupted": result.interrupted, "updated_at": now},
                    increments=("attempts",))
        if task.status == TaskStatus.QUEUED:
            BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING,
                                                        started_at=task.started_at or now, updated_at=now)
    return Claim(result, task, result.interrupted > settings.TASK_MAX_RETRIES)


# --- Recognize and record ----------------------------------------------------------------------------------

def _recognize(task: BatchTask, result: OcrResult) -> dict:
    """The page's fields to write: success with text, details and confidence, or failure with its error."""
    from recognition.services import RecognitionOptions, recognize_bytes, result_confidence

    if result.path_hash != scanning.path_hash(result.relative_path):
        # The stored path is not the file's name (see scan_file): never open whatever file it happens to name.
        error = scanning.unstorable_name_error(result.relative_path)
        return {"success": False, "error_message": f"{error.code}: {error.message}"}
    path = Path(task.source_directory) / result.relative_path
    try:
        real = path.resolve(strict=True)
        if not inside_scan_roots(real):
            raise errors.PathNotAllowed()
        data = real.read_bytes()
    except errors.PathNotAllowed as error:
        return {"success": False, "error_message": f"{error.code}: {error.message}"}
    except OSError as error:
        return {"success": False, "error_message": f"FILE_UNREADABLE: 无法读取文件：{error.strerror or error}"}
    fields = {"file_size": len(data), "content_hash": hashlib.sha256(data).hexdigest()}
    options = RecognitionOptions(lang=task.lang, use_angle_cls=task.use_angle_cls,
                                 detect_orientation=settings.OCR_DETECT_ORIENTATION, return_details=True,
                                 text_layout=task.text_layout, output_format=task.output_format)
    try:
        outcome = recognize_bytes(data, options)
    except (recognition_errors.EngineUnavailableError, SoftTimeLimitExceeded):
        raise
    except core_errors.ApiError as error:
        return {**fields, "success": False, "error_message": f"{error.code}: {error.message}"}
    except Exception as error:  # one bad page never stops the book
        logger.exception("page %s of task %s failed", result.relative_path, task.task_id)
        return {**fields, "success": False, "error_message": f"PAGE_FAILED: {type(error).__name__}: {error}"}
    json_data = {"details": outcome.get("details") or [], "processing_time": outcome.get("processing_time")}
    if outcome.get("pages"):
        json_data["pages"] = [{"text": page.get("text"), "details": page.get("details"),
                               "width": page.get("width"), "height": page.get("height")}
                              for page in outcome["pages"]]
    else:
        json_data.update(width=outcome.get("width"), height=outcome.get("height"))
    return {**fields, "success": True, "raw_text": outcome.get("text") or "", "json_data": json_data,
            "confidence": Decimal(str(result_confidence(outcome))).quantize(Decimal("0.0001")),
            "processing_time": Decimal(str(outcome.get("processing_time") or 0)).quantize(Decimal("0.001")),
            "error_message": ""}


# A page's record writes only a page not yet done: the one write that moves it to done counts it.
_UNFINISHED = f"AND status NOT IN ({', '.join(['%s'] * len(DONE_PAGE_STATUSES))})"


def page_record(*, task: BatchTask, result: OcrResult, fields: dict) -> bool:
    """Writes a page's outcome and moves the task's counters, once: only the write that moves the row from
    unfinished to done counts. `result` is the page as its claim read it (its pk, sequence, volume and
    sent_at, which do not change while it is held). A page that was in the window frees its place: the
    window is topped up in the same transaction (a page an in-process runner read was never sent, and sends
    nothing). Returns whether this call recorded the page."""
    success = fields.pop("success")
    now = timezone.now()
    with transaction.atomic():
        # Lock order everywhere: the task row, then its result rows (claim, retry and delete do the same), so
        # two deliveries of one page cannot deadlock each other.
        locked = locked_row(BatchTask, ("pk", "task_id", "status", "priority", "processed_files", "total_files"),
                            "id = %s", [result.sequence, task.pk], extra=search_index.PAGE_INDEX_SQL)
        written = update_rows(OcrResult, [result.pk], {
            "status": PageStatus.SUCCESS if success else PageStatus.FAILED, "success": success,
            "lease_expires_at": None, "updated_at": now, **fields}, where=_UNFINISHED, params=DONE_PAGE_STATUSES)
        if not written:
            return False
        # In the same transaction, under the task's lock; search finds the page once it is posted, with the
        # next pages or when the task ends (search_index.py).
        waits = search_index.page_index(task_pk=task.pk, sequence=result.sequence, volume=result.volume,
                                        indexed=locked.indexed, json_data=fields.get("json_data"),
                                        raw_text=fields.get("raw_text", ""))
        # The task row is locked: its counters are this transaction's to move, so the progress and whether
        # the book is done are known here, without reading the row again.
        processed = locked.processed_files + 1
        progress = Decimal(processed * 100 / locked.total_files if locked.total_files else 100)
        counted = "success_files" if success else "failed_files"
        update_rows(BatchTask, [task.pk], {"updated_at": now,
                                           "progress": min(progress, Decimal(100)).quantize(Decimal("0.01"))},
                    increments=("processed_files", counted))
        done = processed >= locked.total_files and lifecycle.complete_if_done(task.pk)
        search_index.post_when_due(task_pk=task.pk, waiting=locked.waiting + bool(waits),
                                   task_over=done or locked.status not in ACTIVE_STATUSES)
        if not done and result.sent_at and locked.status in ACTIVE_STATUSES:
            dispatch.send_after_commit(locked, dispatch.top_up(locked))
    return True


def page_process(*, result_id: int, holder: str = "", resume: str = "", soft_time_limit: int | None = None) -> str:
    """Runs one page; returns what happened to it: `skipped` (task not active, page done or gone, or held by
    another live process), `success`, `failed`, or `engine_failed` (the engine cannot load: the task fails,
    the page stays unfinished so that retry runs it). holder: see holder_name (default: this process as an
    in-process runner); resume: see page_claim; soft_time_limit: the seconds after which the Celery job
    interrupts the page (SoftTimeLimitExceeded). Each outcome is logged with the page and the task."""
    holder = holder or holder_name()
    claim = page_claim(result_id, holder, resume)
    if claim is None:
        return "skipped"
    result, task = claim.result, claim.task
    if claim.give_up:
        fields = {"success": False,
                  "error_message": f"WORKER_LOST: 处理此页时 worker 已中断 {result.interrupted} 次，放弃此页"}
    else:
        try:
            with lease_heartbeat(result_id, holder), soft_time_limit_watch(bool(soft_time_limit)) as limit_hit:
                fields = _recognize(task, result)
            # A library the limit interrupts may turn SoftTimeLimitExceeded into an error of its own (ONNX
            # Runtime does): a page that failed after the limit's signal failed because of it.
            if limit_hit() and not fields["success"]:
                fields = time_limit_fields(soft_time_limit)
        except SoftTimeLimitExceeded:
            fields = time_limit_fields(soft_time_limit or settings.TASK_PAGE_SOFT_TIME_LIMIT)
        except recognition_errors.EngineUnavailableError as error:
            with transaction.atomic():
                OcrResult.objects.filter(pk=result_id, status=PageStatus.PROCESSING).update(
                    status=PageStatus.PENDING, lease_expires_at=None, updated_at=timezone.now())
                BatchTask.objects.filter(pk=task.pk, status__in=ACTIVE_STATUSES).update(
                    status=TaskStatus.FAILED, error_message=f"ENGINE_UNAVAILABLE: {error.message}",
                    completed_at=timezone.now(), active_fingerprint=None, updated_at=timezone.now())
            logger.error("page %s of task %s: engine unavailable, task failed: %s", result.relative_path,
                         task.task_id, error.message)
            return "engine_failed"
    return _record_and_log(task, result, fields)


def _record_and_log(task: BatchTask, result: OcrResult, fields: dict) -> str:
    success = fields["success"]
    code = "" if success else fields["error_message"].split(":", 1)[0]
    if not page_record(task=task, result=result, fields=fields):
        logger.info("page %s of task %s: already recorded by another delivery", result.relative_path, task.task_id)
        return "skipped"
    if success:
        logger.info("page %s of task %s: success", result.relative_path, task.task_id)
    else:
        logger.warning("page %s of task %s: failed (%s)", result.relative_path, task.task_id, code)
    return "success" if success else "failed"


@contextmanager
def soft_time_limit_watch(active: bool):
    """Yields a function telling whether Celery's soft time limit signalled this process while the block ran.
    The pool's timer starts when the child takes the job, before the page is claimed, so a page's own clock
    cannot tell; the signal can. Only Celery's prefork children (main thread, the pool's handler in place)
    are watched: elsewhere no soft limit is delivered, and the function answers False."""
    previous = signal.getsignal(SIG_SOFT_TIMEOUT) if SIG_SOFT_TIMEOUT is not None else None
    if not (active and callable(previous) and threading.current_thread() is threading.main_thread()):
        yield lambda: False
        return
    hit = threading.Event()

    def note_and_raise(signum, frame):
        hit.set()
        previous(signum, frame)

    signal.signal(SIG_SOFT_TIMEOUT, note_and_raise)
    try:
        yield hit.is_set
    finally:
        signal.signal(SIG_SOFT_TIMEOUT, previous)


def time_limit_fields(seconds: int) -> dict:
    return {"success": False, "error_message": f"TIME_LIMIT_EXCEEDED: 处理此页超过 {seconds} 秒，已停止"}


def page_record_killed(*, result_id: int, seconds: float) -> str:
    """Records as failed (TIME_LIMIT_EXCEEDED) a page whose process was killed at the hard time limit; run by
    the worker's main process, since the child that read the page is gone."""
    result = OcrResult.objects.filter(pk=result_id).first()
    task = BatchTask.objects.filter(task_id=result.task_id).first() if result else None
    if task is None:
        return "skipped"
    return _record_and_log(task, result, time_limit_fields(int(seconds)))


def task_run_inline(*, task_id: str, on_page=None) -> BatchTask:
    """Runs a started task's unfinished pages in this process, through page_process (what a worker does).
    Safe next to running workers: each page is claimed once. on_page(task) is called after every page. A
    task still `scanning` (retried after a cancel during its listing) is listed here first."""
    task = lifecycle.get_task(task_id)
    if task.status == TaskStatus.SCANNING:
        task = listing.task_list_files(task_id=task.task_id, send=False)
    ids = list(OcrResult.objects.filter(task=task).exclude(status__in=DONE_PAGE_STATUSES)
               .order_by("sequence").values_list("pk", flat=True))
    for result_id in ids:
        page_process(result_id=result_id)
        task.refresh_from_db()
        if on_page:
            on_page(task)
        if task.status not in ACTIVE_STATUSES:
            break
    with transaction.atomic():
        lifecycle.complete_if_done(task.pk)
    task.refresh_from_db()
    return task
