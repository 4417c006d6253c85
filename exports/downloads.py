"""The download of a task's export, shared by the REST API and the dashboard: the newest export of the
format (written first when there is none), streamed under a file name made from the book id."""

import re
from urllib.parse import quote

from django.http import FileResponse

from batches.models import BatchTask
from documents.formats import FORMATS

from . import selectors, services

MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "txt": "text/plain",
               **{name: document.media_type for name, document in FORMATS.items()}}


def content_type(export_format: str) -> str:
    """The media type, with the charset of the formats written as UTF-8 text (all but the PDF)."""
    document = FORMATS.get(export_format)
    binary = document is not None and document.binary
    return MEDIA_TYPES[export_format] + ("" if binary else "; charset=utf-8")


def export_download(*, task: BatchTask, export_format: str) -> FileResponse:
    """Raises core.errors.ApiError subclasses for an unknown format or a failed export."""
    fmt = services.parse_format(export_format)
    export = selectors.export_newest(task=task, export_format=fmt)
    if export is None:
        export = services.export_create(task=task, export_format=fmt)
    try:
        handle = open(export.file_path, "rb")
    except FileNotFoundError:  # expired and purged since it was looked up: write it again
        export = services.export_create(task=task, export_format=fmt)
        handle = open(export.file_path, "rb")
    name = f"{services.safe_name(task.book_id)}_{task.task_id[:8]}.{services.EXTENSIONS[fmt]}"
    response = FileResponse(handle, content_type=content_type(fmt))
    response["Content-Disposition"] = content_disposition(name)
    response["X-Export-Id"] = export.export_id
    return response


def content_disposition(name: str) -> str:
    """`attachment` with the UTF-8 name (RFC 6266 `filename*`) and an ASCII `filename` beside it, with the
    same extension, for clients that read only that one (`curl -OJ`, older HTTP libraries)."""
    stem, _, extension = name.rpartition(".")
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "export"
    return f'attachment; filename="{ascii_stem}.{extension}"; filename*=utf-8\'\'{quote(name)}'
