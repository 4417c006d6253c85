"""Writes of exports: a task's results written to a file under EXPORT_DIR, in book order, in bounded memory
(the rows are read CHUNK at a time and written one at a time), and recorded in the `exports` table. JSON,
CSV and plain text are written here; the searchable PDF, hOCR and ALTO by the renderers of documents/, fed
by document_pages.py."""

import csv
import json
import logging
import os
import re
import shutil
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from batches.models import BatchTask, OcrResult
from batches.selectors import results_in_book_order, volume_value
from core.errors import InvalidParameter, error_for_exception
from core.paths import inside_export_dir
from documents.formats import FORMATS, write_document

from .document_pages import book_pages
from .models import Export, ExportFormat, ExportStatus

logger = logging.getLogger(__name__)

CSV_HEADER = ["文件名", "卷号", "页码", "识别文字", "置信度", "状态"]
CHUNK = 1000
# The document formats read each row with its details, which for a dense page weigh tens of kilobytes: fewer
# rows at a time.
DOCUMENT_CHUNK = 100
DOCUMENT_FORMATS = {ExportFormat.PDF, ExportFormat.HOCR, ExportFormat.ALTO}
EXTENSIONS = {ExportFormat.JSON: "json", ExportFormat.CSV: "csv", ExportFormat.TXT: "txt",
              **{fmt: FORMATS[fmt].extension for fmt in DOCUMENT_FORMATS}}
FORMAT_ALIASES = {"text": ExportFormat.TXT, "txt": ExportFormat.TXT, "plain": ExportFormat.TXT,
                  **{fmt.value: fmt for fmt in ExportFormat}}


def parse_format(value) -> str:
    fmt = FORMAT_ALIASES.get(str(value or "json").strip().lower())
    if fmt is None:
        raise InvalidParameter(f"参数 format 的值 {value!r} 无效，可选：{', '.join(ExportFormat.values)}",
                               field="format", allowed=list(ExportFormat.values))
    return fmt


def task_export_dir(task: BatchTask) -> Path:
    return settings.EXPORT_DIR / task.task_id


def safe_name(text: str) -> str:
    """A file name part from a book id: path separators and control characters replaced, Chinese kept."""
    cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "_", text).strip(" .") or "book"
    return cleaned[:80]


def _confidence(result: OcrResult):
    return float(result.confidence) if result.confidence is not None else None


def _page_json(result: OcrResult, include_details: bool) -> dict:
    page = {
        "file_name": result.file_name,
        "relative_path": result.relative_path,
        "volume": volume_value(result.volume),
        "page_number": result.page_number,
        "raw_text": result.raw_text,
        "confidence": _confidence(result),
        "success": bool(result.success),
    }
    if not result.success:
        page["error"] = result.error_message or None
    if include_details:
        page["details"] = (result.json_data or {}).get("details")
    return page


def _write_json(handle, task: BatchTask, rows, include_details: bool) -> int:
    head = {"book_id": task.book_id, "task_id": task.task_id, "export_time": timezone.localtime().isoformat(),
            "source_directory": task.source_directory}
    # total_pages is known only at the end: the pages are written first, the count after them.
    handle.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [')
    count = 0
    for result in rows:
        handle.write(("\n" if count == 0 else ",\n") + json.dumps(_page_json(result, include_details), ensure_ascii=False))
        count += 1
    handle.write(f'\n], "total_pages": {count}}}\n')
    return count


# A cell starting with one of these is run as a formula by Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """Text as a spreadsheet shows it, never as a formula: an apostrophe before a formula's first
    character, as OWASP recommends."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _write_csv(handle, rows) -> int:
    writer = csv.writer(handle)
    writer.writerow(CSV_HEADER)
    count = 0
    for result in rows:
        confidence = _confidence(result)
        writer.writerow([csv_text(result.relative_path), "" if result.volume is None else result.volume,
                         "" if result.page_number is None else result.page_number, csv_text(result.raw_text),
                         "" if confidence is None else f"{confidence:.4f}",
                         "成功" if result.success else f"失败：{result.error_message}" if result.error_message else "失败"])
        count += 1
    return count


def _write_txt(handle, task: BatchTask, rows) -> int:
    handle.write(f"{task.book_id}\n")
    count = 0
    for result in rows:
        where = []
        if result.volume:
            where.append(f"卷{result.volume}")
        if result.page_number is not None:
            where.append(f"第{result.page_number}页")
        title = " ".join(where + [result.relative_path])
        body = result.raw_text if result.success else f"[识别失败] {result.error_message}"
        handle.write(f"\n===== {title} =====\n{body}\n")
        count += 1
    return count


def _write_document(path: Path, task: BatchTask, rows, fmt: str) -> int:
    """A PDF (page images from the task's folder), hOCR or ALTO file of the task's pages."""
    pages = book_pages(task, rows, with_images=fmt == ExportFormat.PDF)
    if FORMATS[fmt].binary:
        with open(path, "wb") as handle:
            return write_document(fmt, pages, handle, title=task.book_id)
    with open(path, "w", encoding="utf-8") as handle:
        return write_document(fmt, pages, handle, title=task.book_id)


def export_create(*, task: BatchTask, export_format: str, include_details: bool = False) -> Export:
    """Writes the task's finished pages (book order) to a new file and records it. The file is written under
    a temporary name and renamed when complete, so a download never sees half a file."""
    fmt = parse_format(export_format)
    export = Export.objects.create(task=task, book_id=task.book_id, export_format=fmt,
                                   include_images=fmt == ExportFormat.PDF, include_details=include_details,
                                   status=ExportStatus.PROCESSING)
    folder = task_export_dir(task)
    stamp = timezone.localtime().strftime("%Y%m%d_%H%M%S")
    final = folder / f"{safe_name(task.book_id)}_{stamp}_{export.export_id[:8]}.{EXTENSIONS[fmt]}"
    partial = final.with_name(final.name + ".part")
    document = fmt in DOCUMENT_FORMATS
    rows = results_in_book_order(task, with_details=include_details or document,
                                 batch_size=DOCUMENT_CHUNK if document else CHUNK)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if document:
            count = _write_document(partial, task, rows, fmt)
        elif fmt == ExportFormat.CSV:
            with open(partial, "w", encoding="utf-8-sig", newline="") as handle:
                count = _write_csv(handle, rows)
        else:
            with open(partial, "w", encoding="utf-8") as handle:
                count = _write_json(handle, task, rows, include_details) if fmt == ExportFormat.JSON \
                    else _write_txt(handle, task, rows)
        os.replace(partial, final)
    except Exception as error:
        partial.unlink(missing_ok=True)
        # A full disk becomes StorageFull (507), which every caller (API, dashboard, admin, command) answers
        # as a coded error; anything else stays the defect it is.
        coded = error_for_exception(error) if isinstance(error, OSError) else None
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error_message=f"{coded.code}: {error}" if coded else str(error))
        if coded:
            raise coded from error
        raise
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.COMPLETED, file_path=str(final), file_size=final.stat().st_size, total_pages=count,
        expires_at=timezone.now() + timezone.timedelta(hours=settings.EXPORT_TTL_HOURS))
    export.refresh_from_db()
    logger.info("export %s of task %s: %s, %d pages", export.export_id, task.task_id, final, count)
    exports_purge_expired()
    return export


def export_files_of(task: BatchTask) -> list[Path]:
    """The task's export files and its export folder."""
    files = [Path(path) for path in task.exports.exclude(file_path="").values_list("file_path", flat=True)]
    return [*files, task_export_dir(task)]


def export_files_remove(paths: list[Path]) -> None:
    """Removes these files and folders, only ever under EXPORT_DIR."""
    for path in paths:
        if not inside_export_dir(path):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def exports_purge_expired() -> int:
    """Deletes the files and records of exports past expires_at."""
    expired = Export.objects.filter(expires_at__lt=timezone.now())
    count = 0
    for export in expired.iterator():
        path = Path(export.file_path) if export.file_path else None
        if path and inside_export_dir(path):
            path.unlink(missing_ok=True)
        export.delete()
        count += 1
    return count
