"""Writes of batch scanning: create, start, process one page, cancel, retry, delete, recover.

Task flow: `task_create` lists the directory's files once, in book order, and creates the task with one
OcrResult row per file (status `pending`). `task_start` marks the task `queued` and sends one Celery message
(`batches.dispatch_task`) that sends one `batches.process_page` message per pending page. `page_process`
claims the page (under a lock on the task row, so that a cancel and a claim are serialized: no page starts
after a cancel is recorded), runs the recognition service, and writes the page's row; the task's counters
move with F() expressions only when the page's row moves from unfinished to done, in the same transaction,
so a page delivered twice (redelivery after a killed worker) is counted once. The page that makes
processed_files reach total_files completes the task.
"""

import errno
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatch
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from books.services import book_upsert
from core import errors as core_errors
from core.paths import inside_scan_roots
from recognition import errors as recognition_errors

from . import errors
from .filenames import sort_book_order
from .models import BatchTask, OcrResult
from core.statuses import (ACTIVE_STATUSES, DONE_PAGE_STATUSES, FINISHED_STATUSES, UNFINISHED_STATUSES, PageStatus,
                           TaskStatus)

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pdf")
DEFAULT_FILE_PATTERNS = ["*" + ext for ext in SUPPORTED_EXTENSIONS]
BULK_SIZE = 2000
SOURCE_DIRECTORY_MAX = BatchTask._meta.get_field("source_directory").max_length
RELATIVE_PATH_MAX = OcrResult._meta.get_field("relative_path").max_length
ELLIPSIS = "…"


# --- Paths -----------------------------------------------------------------------------------------------

def resolve_scan_directory(directory: str) -> Path:
    """The real directory a client names, which must lie inside SCAN_ROOTS once symlinks are resolved.

    Relative paths are taken relative to the first scan root. `..` components, absolute paths and symlinks
    that lead outside the roots all get PathNotAllowed, checked before anything about the path's existence
    is looked at, so the answer does not tell whether a path outside the roots exists. A directory the task
    row could not store (a name that is not UTF-8, a path longer than source_directory) is refused."""
    raw = str(directory or "").strip()
    if not raw or "\x00" in raw:
        raise errors.PathNotAllowed()
    candidate = Path(raw)
    if ".." in candidate.parts:
        raise errors.PathNotAllowed()
    if not candidate.is_absolute():
        candidate = settings.SCAN_ROOTS[0] / candidate
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError):
        raise errors.PathNotAllowed() from None
    if not inside_scan_roots(resolved):
        raise errors.PathNotAllowed()
    try:
        if not resolved.exists():
            raise errors.DirectoryNotFound(f"目录不存在：{directory}")
        if not resolved.is_dir():
            raise errors.NotADirectory(f"路径不是目录：{directory}")
    except OSError as error:  # ENAMETOOLONG: a name over 255 bytes, or a path over PATH_MAX
        raise errors.PathTooLong() if error.errno == errno.ENAMETOOLONG else errors.DirectoryNotFound() from None
    shown = _escaped(str(resolved))
    if shown != str(resolved):
        raise errors.InvalidFileName(f"目录名不是 UTF-8 编码，无法保存：{shown}")
    if len(str(resolved)) > SOURCE_DIRECTORY_MAX:
        raise errors.PathTooLong(f"目录路径超过 {SOURCE_DIRECTORY_MAX} 个字符，无法保存：请缩短路径后重新扫描")
    return resolved


def list_scan_files(root: Path, *, recursive: bool, file_patterns: list[str] | None) -> list[str]:
    """Relative POSIX paths of the supported files under root matching the patterns (case-insensitive), as
    os.fsdecode names them: a name that is not UTF-8 keeps its bytes as lone surrogates (see scan_file).
    Hidden files and folders are skipped, and so is anything whose real path leaves the scan roots, and
    symlinks that loop (folder links are never followed; a file link must resolve)."""
    patterns = [p.lower() for p in (file_patterns or DEFAULT_FILE_PATTERNS)]
    found = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")] if recursive else []
        folder_path = Path(folder)
        for name in files:
            lower = name.lower()
            if name.startswith(".") or not lower.endswith(SUPPORTED_EXTENSIONS):
                continue
            if not any(fnmatch(lower, pattern) for pattern in patterns):
                continue
            path = folder_path / name
            if path.is_symlink():
                try:
                    if not inside_scan_roots(path.resolve(strict=True)) or not path.is_file():
                        continue
                except (OSError, RuntimeError):
                    continue
            found.append(path.relative_to(root).as_posix())
    return found


def path_hash(relative_path: str) -> str:
    """sha256 of the path's bytes on disk (os.fsencode: UTF-8, and the original bytes of a name that is not
    UTF-8), so that every listed file has its own row even when its stored relative_path had to change."""
    return hashlib.sha256(os.fsencode(relative_path)).hexdigest()


def _escaped(name: str) -> str:
    """A file system name as valid UTF-8, which MariaDB's utf8mb4 can store: bytes that are not UTF-8
    shown as \\xNN. The name itself when it is UTF-8."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class ScanFile:
    """One listed file as its OcrResult row stores it. error is set when relative_path cannot be the file's
    real name (not UTF-8, or longer than the column): the page is recorded as failed at once."""
    relative_path: str
    path_hash: str
    error: core_errors.ApiError | None


def scan_file(name: str) -> ScanFile:
    """The row of a name list_scan_files found. A name that is not UTF-8 is stored escaped; a path longer
    than the relative_path column is stored as its end (the file and its nearest folders, which give the
    volume and page) after an ellipsis. path_hash stays that of the real name, so it is unique per file."""
    stored = _escaped(name)
    if len(stored) > RELATIVE_PATH_MAX:
        stored = ELLIPSIS + stored[-(RELATIVE_PATH_MAX - len(ELLIPSIS)):]
    digest = path_hash(name)
    if digest == path_hash(stored):
        return ScanFile(stored, digest, None)
    return ScanFile(stored, digest, _unstorable_name_error(stored, os.fsencode(name)))


def _unstorable_name_error(relative_path: str, real_name: bytes | None = None) -> core_errors.ApiError:
    """Why a row's relative_path is not its file's name (scan_file changed it); real_name, when known,
    adds the name read as GBK, the usual encoding of such names, so the operator can tell which page it is."""
    if len(relative_path) == RELATIVE_PATH_MAX and relative_path.startswith(ELLIPSIS):
        return errors.PathTooLong(f"相对路径超过 {RELATIVE_PATH_MAX} 个字符，无法保存：{relative_path[:80]}…；"
                                  "请缩短目录或文件名后重新扫描")
    message = f"文件名不是 UTF-8 编码，无法保存和读取：{relative_path}"
    if real_name:
        try:
            message += f"（按 GBK 读作：{real_name.decode('gbk')}）"
        except UnicodeDecodeError:
            pass  # not GBK either: the escaped bytes are all there is to show
    return errors.InvalidFileName(message + "；请改为 UTF-8 文件名后重新扫描")


# --- Options and duplicate fingerprint -------------------------------------------------------------------

@dataclass(frozen=True)
class ScanOptions:
    lang: str = "ch"
    use_angle_cls: bool = True
    text_layout: str = "auto"
    output_format: str = "line_by_line"
    recursive: bool = True
    file_patterns: tuple[str, ...] | None = None

    @classmethod
    def from_raw(cls, raw: dict) -> "ScanOptions":
        """Validated options (lang, layout and format through the recognition service's own validation)."""
        from recognition.services import RecognitionOptions

        options = RecognitionOptions.from_raw({key: raw.get(key) for key in
                                               ("lang", "use_angle_cls", "text_layout", "output_format")})
        patterns = raw.get("file_patterns")
        if patterns is not None:
            if isinstance(patterns, str):
                patterns = [p for p in patterns.split(",")]
            if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) for p in patterns):
                raise core_errors.InvalidParameter("file_patterns 必须是字符串数组", field="file_patterns")
            patterns = tuple(sorted({p.strip() for p in patterns if p.strip()})) or None
        recursive = raw.get("recursive")
        from recognition.services import parse_bool

        return cls(lang=options.lang, use_angle_cls=options.use_angle_cls, text_layout=options.text_layout,
                   output_format=options.output_format,
                   recursive=True if recursive is None else parse_bool("recursive", recursive),
                   file_patterns=patterns)


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


def _duplicate_precheck(fingerprint: str) -> bool:
    """Whether an unfinished task has this fingerprint now: saves listing the directory for nothing. Racy on
    its own; the unique index on active_fingerprint makes the decision."""
    return BatchTask.objects.filter(active_fingerprint=fingerprint).exists()


def _duplicate_error(fingerprint: str) -> errors.DuplicateTask:
    existing = BatchTask.objects.filter(active_fingerprint=fingerprint).first()
    payload = None
    if existing is not None:
        payload = {"task_id": existing.task_id, "status": existing.status, "progress": float(existing.progress)}
    return errors.DuplicateTask(
        f"相同目录和选项的任务尚未结束：{existing.task_id}" if existing else None, existing_task=payload)


# --- Create, start -----------------------------------------------------------------------------------------

def task_create(*, book_id: str, directory: str, options: ScanOptions, priority: int | None = None,
                task_name: str = "", auto_start: bool = True, owner=None) -> BatchTask:
    """A new scan of directory for book_id. Refused with DuplicateTask while an unfinished task covers the
    same resolved directory with the same options (atomically: the unique active_fingerprint column).
    `owner` is the user the task belongs to (None: created without a login or token)."""
    root = resolve_scan_directory(directory)
    priority = settings.TASK_DEFAULT_PRIORITY if priority is None else int(priority)
    if not 1 <= priority <= 10:
        raise core_errors.InvalidParameter("priority 必须在 1 到 10 之间", field="priority")
    fields = dict(source_directory=str(root), lang=options.lang, use_angle_cls=options.use_angle_cls,
                  text_layout=options.text_layout, output_format=options.output_format,
                  recursive=options.recursive, file_patterns=list(options.file_patterns) if options.file_patterns
                  else None)
    fingerprint = task_fingerprint(**fields) if settings.TASK_DUPLICATE_DETECTION else None
    if fingerprint and _duplicate_precheck(fingerprint):
        raise _duplicate_error(fingerprint)  # the cheap answer; the unique index below is the real guard

    files = [scan_file(name) for name in list_scan_files(root, recursive=options.recursive,
                                                         file_patterns=fields["file_patterns"])]
    pages = sort_book_order(files, path=lambda file: file.relative_path)
    volumes = {position.volume for _, position in pages if position.volume is not None}
    try:
        with transaction.atomic():
            book = book_upsert(book_id=book_id, source_directory=str(root), total_pages=len(pages),
                               total_volumes=len(volumes))
            task = BatchTask.objects.create(book=book, task_name=task_name or f"{book_id} {root.name}",
                                            priority=priority, total_files=len(pages),
                                            active_fingerprint=fingerprint, owner=owner, **fields)
            batch = []
            for sequence, (file, position) in enumerate(pages):
                # A file its row cannot name is failed now: no worker could open it by that name.
                failed = {} if file.error is None else dict(
                    status=PageStatus.FAILED, success=False, error_message=f"{file.error.code}: {file.error.message}")
                batch.append(OcrResult(
                    task=task, book_id=book_id, file_name=Path(file.relative_path).name[:255],
                    relative_path=file.relative_path, path_hash=file.path_hash, sequence=sequence,
                    volume=None if position.volume is None else str(position.volume),
                    page_number=position.page, **failed))
                if len(batch) >= BULK_SIZE:
                    OcrResult.objects.bulk_create(batch)
                    batch = []
            if batch:
                OcrResult.objects.bulk_create(batch)
            if any(file.error for file in files):
                _recount(task.pk)
    except IntegrityError:
        if fingerprint and BatchTask.objects.filter(active_fingerprint=fingerprint).exists():
            raise _duplicate_error(fingerprint) from None
        raise
    logger.info("task %s created for book %s: %d files in %s", task.task_id, book_id, len(pages), root)
    if auto_start:
        task = task_start(task_id=task.task_id)
    return task


def _get_task(task_id: str, *, lock: bool = False) -> BatchTask:
    queryset = BatchTask.objects.select_for_update() if lock else BatchTask.objects
    task = queryset.filter(task_id=str(task_id)).first()
    if task is None:
        raise errors.TaskNotFound()
    return task


def _enqueue_dispatch(task: BatchTask) -> None:
    """Hands the task to the workers (after the commit that queued it). When the broker cannot take the
    message the task is marked failed with BROKER_UNAVAILABLE, so that retry can send it later, and the
    caller gets a 503."""
    from . import tasks

    try:
        result = tasks.dispatch_task.apply_async(args=[task.task_id], priority=task.priority, retry=False)
    except Exception as error:
        logger.error("task %s: broker unavailable: %s", task.task_id, error)
        BatchTask.objects.filter(pk=task.pk, status=TaskStatus.QUEUED).update(
            status=TaskStatus.FAILED, error_message=f"BROKER_UNAVAILABLE: {error}", completed_at=timezone.now(),
            active_fingerprint=None, updated_at=timezone.now())
        raise errors.BrokerUnavailable(task_id=task.task_id) from error
    BatchTask.objects.filter(pk=task.pk).update(celery_task_id=result.id)


def _complete_if_done(task_pk: int) -> None:
    """Completes an active task whose pages are all done (call inside a transaction)."""
    BatchTask.objects.filter(pk=task_pk, status__in=ACTIVE_STATUSES, processed_files__gte=F("total_files")).update(
        status=TaskStatus.COMPLETED, progress=Decimal("100.00"), completed_at=timezone.now(),
        active_fingerprint=None, updated_at=timezone.now())


def task_start(*, task_id: str, send: bool = True) -> BatchTask:
    """pending → queued, and the pages are sent to the workers. Idempotent while queued or processing;
    InvalidTaskState for a finished or cancelled task (retry it instead). With send=False the pages are left
    for an in-process runner (`manage.py scan --inline`)."""
    with transaction.atomic():
        task = _get_task(task_id, lock=True)
        if task.status in ACTIVE_STATUSES:
            return task
        if task.status in FINISHED_STATUSES:
            raise errors.InvalidTaskState(f"任务已结束（{task.status}），请使用重试", status=task.status)
        now = timezone.now()
        BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.QUEUED, updated_at=now)
        _complete_if_done(task.pk)
        if send and task.total_files:
            transaction.on_commit(lambda: _enqueue_dispatch(task))
    task.refresh_from_db()
    return task


def task_dispatch_pages(*, task_id: str) -> int:
    """Sends one process_page message per unfinished page of an active task, in book order. Run by the
    `batches.dispatch_task` job; sending a page twice is harmless (page_process skips done pages)."""
    from . import tasks

    task = BatchTask.objects.filter(task_id=task_id).first()
    if task is None or task.status not in ACTIVE_STATUSES:
        return 0
    ids = (OcrResult.objects.filter(task=task).exclude(status__in=DONE_PAGE_STATUSES)
           .order_by("sequence").values_list("pk", flat=True))
    sent = 0
    for result_id in ids.iterator(chunk_size=BULK_SIZE):
        if sent % 500 == 0 and sent and not BatchTask.objects.filter(pk=task.pk, status__in=ACTIVE_STATUSES).exists():
            break  # cancelled while sending
        tasks.process_page.apply_async(args=[result_id], priority=task.priority)
        sent += 1
    logger.info("task %s: %d pages sent", task_id, sent)
    return sent


# --- One page --------------------------------------------------------------------------------------------

def _claim(result_id: int, worker: str = "") -> tuple[OcrResult, BatchTask, bool] | None:
    """Marks the page as started if its task is still active and the page not done yet. The task row is
    locked while checking, and cancel takes the same lock, so no page starts after a cancel is recorded.

    A page found `processing` was taken before by a worker that never finished it (killed, or lost while
    holding it): that counts as an interruption, and after more than TASK_MAX_RETRIES of them the page is
    given up (the third value is True) rather than crash worker after worker."""
    with transaction.atomic():
        result = OcrResult.objects.filter(pk=result_id).only("pk", "task_id").first()
        if result is None:
            return None
        task = BatchTask.objects.select_for_update().filter(task_id=result.task_id).first()
        if task is None or task.status not in ACTIVE_STATUSES:
            return None
        row = OcrResult.objects.select_for_update().filter(pk=result_id).values("status", "interrupted").first()
        if row is None or row["status"] in DONE_PAGE_STATUSES:
            return None
        interrupted = row["interrupted"] + (1 if row["status"] == PageStatus.PROCESSING else 0)
        now = timezone.now()
        OcrResult.objects.filter(pk=result_id).update(status=PageStatus.PROCESSING, claimed_at=now,
                                                      claimed_by=worker[:255], attempts=F("attempts") + 1,
                                                      interrupted=interrupted, updated_at=now)
        if task.status == TaskStatus.QUEUED:
            BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.PROCESSING,
                                                        started_at=task.started_at or now, updated_at=now)
    return OcrResult.objects.get(pk=result_id), task, interrupted > settings.TASK_MAX_RETRIES


def _recognize(task: BatchTask, result: OcrResult) -> dict:
    """The page's fields to write: success with text, details and confidence, or failure with its error."""
    from recognition.services import RecognitionOptions, recognize_bytes, result_confidence

    if result.path_hash != path_hash(result.relative_path):
        # The stored path is not the file's name (see scan_file): never open whatever file it happens to name.
        error = _unstorable_name_error(result.relative_path)
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
    except recognition_errors.EngineUnavailableError:
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


def page_record(*, task: BatchTask, result_id: int, fields: dict) -> bool:
    """Writes a page's outcome and moves the task's counters, once: only the write that moves the row from
    unfinished to done counts. Returns whether this call recorded the page."""
    success = fields.pop("success")
    now = timezone.now()
    with transaction.atomic():
        # Lock order everywhere: the task row, then its result rows (claim, retry and delete do the same), so
        # two deliveries of one page cannot deadlock each other.
        BatchTask.objects.select_for_update().filter(pk=task.pk).values_list("pk", flat=True).first()
        written = (OcrResult.objects.filter(pk=result_id).exclude(status__in=DONE_PAGE_STATUSES)
                   .update(status=PageStatus.SUCCESS if success else PageStatus.FAILED, success=success,
                           updated_at=now, **fields))
        if not written:
            return False
        counters = {"processed_files": F("processed_files") + 1, "updated_at": now}
        counters["success_files" if success else "failed_files"] = F("success_files" if success else "failed_files") + 1
        BatchTask.objects.filter(pk=task.pk).update(**counters)
        current = BatchTask.objects.select_for_update().only("processed_files", "total_files").get(pk=task.pk)
        progress = Decimal(current.processed_files * 100 / current.total_files if current.total_files else 100)
        BatchTask.objects.filter(pk=task.pk).update(progress=min(progress, Decimal(100)).quantize(Decimal("0.01")))
        _complete_if_done(task.pk)
    return True


def page_process(*, result_id: int, worker: str = "") -> str:
    """Runs one page: `skipped` (task not active, page done or gone), `success`, `failed`, or `engine_failed`
    (the engine cannot load: the task fails, the page stays unfinished so that retry runs it). worker is the
    node name of the Celery worker running it (recorded in claimed_by)."""
    claimed = _claim(result_id, worker)
    if claimed is None:
        return "skipped"
    result, task, give_up = claimed
    if give_up:
        page_record(task=task, result_id=result_id, fields={
            "success": False, "error_message": f"WORKER_LOST: 处理此页时 worker 已中断 {result.interrupted} 次，放弃此页"})
        return "failed"
    try:
        fields = _recognize(task, result)
    except recognition_errors.EngineUnavailableError as error:
        with transaction.atomic():
            OcrResult.objects.filter(pk=result_id, status=PageStatus.PROCESSING).update(
                status=PageStatus.PENDING, updated_at=timezone.now())
            BatchTask.objects.filter(pk=task.pk, status__in=ACTIVE_STATUSES).update(
                status=TaskStatus.FAILED, error_message=f"ENGINE_UNAVAILABLE: {error.message}",
                completed_at=timezone.now(), active_fingerprint=None, updated_at=timezone.now())
        return "engine_failed"
    success = fields["success"]
    page_record(task=task, result_id=result_id, fields=fields)
    return "success" if success else "failed"


def task_run_inline(*, task_id: str, on_page=None) -> BatchTask:
    """Runs a started task's unfinished pages in this process, through page_process (what a worker does).
    Safe next to running workers: each page is claimed once. on_page(task) is called after every page."""
    task = _get_task(task_id)
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
        _complete_if_done(task.pk)
    task.refresh_from_db()
    return task


# --- Cancel, retry, delete -------------------------------------------------------------------------------

def task_cancel(*, task_id: str) -> BatchTask:
    """Cancels a pending, queued or processing task: no page starts afterwards (pages already running finish
    and are recorded); messages still queued are dropped by the workers. Idempotent for a cancelled task;
    InvalidTaskState for a completed or failed one."""
    with transaction.atomic():
        task = _get_task(task_id, lock=True)
        if task.status == TaskStatus.CANCELLED:
            return task
        if task.status not in UNFINISHED_STATUSES:
            raise errors.InvalidTaskState(f"任务已结束（{task.status}），无法取消", status=task.status)
        now = timezone.now()
        BatchTask.objects.filter(pk=task.pk).update(status=TaskStatus.CANCELLED, completed_at=now,
                                                    active_fingerprint=None, error_message="已取消",
                                                    updated_at=now)
    task.refresh_from_db()
    logger.info("task %s cancelled", task.task_id)
    return task


def _recount(task_pk: int) -> None:
    counts = OcrResult.objects.filter(task_id=BatchTask.objects.get(pk=task_pk).task_id).aggregate(
        success=Count("pk", filter=Q(status=PageStatus.SUCCESS)),
        failed=Count("pk", filter=Q(status=PageStatus.FAILED)),
        total=Count("pk"))
    processed = counts["success"] + counts["failed"]
    progress = Decimal(processed * 100 / counts["total"] if counts["total"] else 100).quantize(Decimal("0.01"))
    BatchTask.objects.filter(pk=task_pk).update(total_files=counts["total"], processed_files=processed,
                                                success_files=counts["success"], failed_files=counts["failed"],
                                                progress=progress)


def task_retry(*, task_id: str, send: bool = True) -> tuple[BatchTask, int]:
    """Runs again only the pages that failed or never ran; done pages are kept. For a finished task
    (completed, failed, cancelled); InvalidTaskState while it runs, DuplicateTask if another unfinished
    task now covers the same directory and options. Returns the task and the number of pages to run."""
    try:
        with transaction.atomic():
            task = _get_task(task_id, lock=True)
            if task.status in ACTIVE_STATUSES:
                raise errors.InvalidTaskState("任务正在运行，无需重试", status=task.status)
            pages = OcrResult.objects.filter(task=task).exclude(status=PageStatus.SUCCESS)
            count = pages.count()
            if task.status == TaskStatus.PENDING:
                return task_start(task_id=task_id, send=send), count
            if count == 0:
                return task, 0
            now = timezone.now()
            pages.update(status=PageStatus.PENDING, success=None, error_message="", claimed_at=None, interrupted=0,
                         updated_at=now)
            _recount(task.pk)
            BatchTask.objects.filter(pk=task.pk).update(
                status=TaskStatus.QUEUED, completed_at=None, error_message="", active_fingerprint=fingerprint_of(task),
                updated_at=now)
            if send:
                transaction.on_commit(lambda: _enqueue_dispatch(task))
    except IntegrityError:
        raise _duplicate_error(fingerprint_of(task)) from None
    task.refresh_from_db()
    logger.info("task %s retried: %d pages", task.task_id, count)
    return task, count


def task_delete(*, task_id: str) -> None:
    """Deletes the task, its results, its export records and (exports/signals.py) files; a running task is
    cancelled first."""
    task = _get_task(task_id)
    if task.status in UNFINISHED_STATUSES:
        task_cancel(task_id=task_id)
    with transaction.atomic():
        _get_task(task_id, lock=True)
        OcrResult.objects.filter(task=task).delete()
        task.exports.all().delete()
        BatchTask.objects.filter(pk=task.pk).delete()
    logger.info("task %s deleted", task_id)


# --- Recovery --------------------------------------------------------------------------------------------

def pages_requeue_stalled(*, stale_after_seconds: int | None = None, include_pending: bool = False,
                          worker: str = "") -> int:
    """Sends again the pages of active tasks that a worker took and never finished, and with include_pending
    also the pages not started. A page counts as abandoned when its claim is older than stale_after_seconds
    (default TASK_LOCK_TTL), or at once when it was claimed by `worker`: a worker starting under a node name
    holds nothing yet, so whatever that name held belonged to a previous, dead, process (Celery refuses two
    live workers with one node name).

    Run when a worker starts (batches/apps.py). Full mode: the broker also redelivers unacknowledged messages
    itself after its visibility timeout (= TASK_LOCK_TTL); this sends a restarted worker's pages at once.
    Embedded mode: the file broker forgets a message once taken, so the worker's start sends every unfinished
    page again. Sending a page twice is harmless: page_process skips done pages and counts each page once."""
    from . import tasks

    stale = settings.TASK_LOCK_TTL if stale_after_seconds is None else stale_after_seconds
    limit = timezone.now() - timezone.timedelta(seconds=stale)
    abandoned = Q(claimed_at__lte=limit)
    if worker:
        abandoned |= Q(claimed_by=worker)
    condition = Q(status=PageStatus.PROCESSING) & abandoned
    if include_pending:
        condition |= Q(status=PageStatus.PENDING)
    sent = 0
    for task in BatchTask.objects.filter(status__in=ACTIVE_STATUSES):
        ids = (OcrResult.objects.filter(condition, task=task).order_by("sequence")
               .values_list("pk", flat=True))
        for result_id in ids.iterator(chunk_size=BULK_SIZE):
            tasks.process_page.apply_async(args=[result_id], priority=task.priority)
            sent += 1
        with transaction.atomic():
            _complete_if_done(task.pk)
    if sent:
        logger.warning("requeued %d unfinished pages", sent)
    return sent
