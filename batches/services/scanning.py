"""Scanning a directory into a task: which directories may be scanned, which files are pages, and creating
the task (`task_create`), whose files listing.py then lists into one OcrResult row each.

A file whose name a row cannot store (not UTF-8, or a path longer than the column) gets its row all the same,
recorded failed at once (scan_file); `path_hash` is always that of the real name, so it is unique per file.
"""

import errno
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from books.services import book_upsert
from core import errors as core_errors
from core.paths import inside_scan_roots
from core.statuses import TaskStatus

from .. import errors
from ..models import BatchTask, OcrResult
from . import lifecycle, listing

logger = logging.getLogger("batches.services")

SUPPORTED_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pdf")
DEFAULT_FILE_PATTERNS = ["*" + ext for ext in SUPPORTED_EXTENSIONS]
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


def iter_scan_files(root: Path, *, recursive: bool, file_patterns: list[str] | None) -> Iterator[str]:
    """Relative POSIX paths of the supported files under root matching the patterns (case-insensitive), as
    os.fsdecode names them: a name that is not UTF-8 keeps its bytes as lone surrogates (see scan_file).
    Hidden files and folders are skipped, and so is anything whose real path leaves the scan roots, and
    symlinks that loop (folder links are never followed; a file link must resolve). A folder that cannot be
    read is skipped, as os.walk does.

    Streamed (os.scandir, one folder's iterator open at a time, the folders still to visit on a stack), so a
    tree of any size is listed in bounded memory; the order is the file system's, not the book's."""
    patterns = [p.lower() for p in (file_patterns or DEFAULT_FILE_PATTERNS)]
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            entries = os.scandir(root / folder if folder else root)
        except OSError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                relative = f"{folder}/{name}" if folder else name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if recursive:
                            folders.append(relative)
                        continue
                except OSError:
                    continue
                lower = name.lower()
                if not lower.endswith(SUPPORTED_EXTENSIONS) or not any(fnmatch(lower, p) for p in patterns):
                    continue
                if entry.is_symlink():
                    path = Path(entry.path)
                    try:
                        if not inside_scan_roots(path.resolve(strict=True)) or not path.is_file():
                            continue
                    except (OSError, RuntimeError):
                        continue
                yield relative


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
    return ScanFile(stored, digest, unstorable_name_error(stored, os.fsencode(name)))


def unstorable_name_error(relative_path: str, real_name: bytes | None = None) -> core_errors.ApiError:
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


# --- Options ---------------------------------------------------------------------------------------------

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


def _duplicate_precheck(fingerprint: str) -> bool:
    """Whether an unfinished task has this fingerprint now: saves listing the directory for nothing. Racy on
    its own; the unique index on active_fingerprint makes the decision."""
    return BatchTask.objects.filter(active_fingerprint=fingerprint).exists()


# --- Create ---------------------------------------------------------------------------------------------

def task_create(*, book_id: str, directory: str, options: ScanOptions, priority: int | None = None,
                task_name: str = "", auto_start: bool = True, owner=None, send: bool = True) -> BatchTask:
    """A new scan of directory for book_id, created `scanning`: its files are listed into pages by
    listing.task_list_files, here at once when the tree has at most TASK_SCAN_INLINE_FILES files (the task
    comes back pending, or started with auto_start), by the `batches.list_task_files` job otherwise (the task
    comes back `scanning`; BrokerUnavailable when the broker refuses the job, the task then failed).
    send=False lists nothing and sends nothing: the caller lists and runs the pages in its own process.

    Refused with DuplicateTask while an unfinished task covers the same resolved directory with the same
    options (atomically: the unique active_fingerprint column). `owner` is the user the task belongs to
    (None: created without a login or token)."""
    root = resolve_scan_directory(directory)
    priority = settings.TASK_DEFAULT_PRIORITY if priority is None else int(priority)
    if not 1 <= priority <= 10:
        raise core_errors.InvalidParameter("priority 必须在 1 到 10 之间", field="priority")
    fields = dict(source_directory=str(root), lang=options.lang, use_angle_cls=options.use_angle_cls,
                  text_layout=options.text_layout, output_format=options.output_format,
                  recursive=options.recursive, file_patterns=list(options.file_patterns) if options.file_patterns
                  else None)
    fingerprint = lifecycle.task_fingerprint(**fields) if settings.TASK_DUPLICATE_DETECTION else None
    if fingerprint and _duplicate_precheck(fingerprint):
        raise lifecycle.duplicate_error(fingerprint)  # the cheap answer; the unique index below is the real guard
    try:
        with transaction.atomic():
            book = book_upsert(book_id=book_id, source_directory=str(root))
            task = BatchTask.objects.create(book=book, task_name=task_name or f"{book_id} {root.name}",
                                            priority=priority, status=TaskStatus.SCANNING, listing_done=False,
                                            start_when_listed=auto_start, active_fingerprint=fingerprint,
                                            owner=owner, **fields)
    except IntegrityError:
        if fingerprint and BatchTask.objects.filter(active_fingerprint=fingerprint).exists():
            raise lifecycle.duplicate_error(fingerprint) from None
        raise
    logger.info("task %s created for book %s: listing %s", task.task_id, book_id, root)
    if not send:
        return task
    # Counting a few files tells a small tree from a large one at no cost: a small one is listed now, so
    # its answer already has every page (as before the listing became a job).
    few = settings.TASK_SCAN_INLINE_FILES
    if len(list(islice(iter_scan_files(root, recursive=options.recursive, file_patterns=fields["file_patterns"]),
                       few + 1))) <= few:
        return listing.task_list_files(task_id=task.task_id)
    listing.send_listing(task)
    task.refresh_from_db()
    return task
