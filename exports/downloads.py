"""The download of a task's export, shared by the REST API and the dashboard: the newest export of the
format (written first when there is none), streamed under a file name made from the book id."""

from django.http import FileResponse

from batches.models import BatchTask

from . import selectors, services

CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "txt": "text/plain"}


def export_download(*, task: BatchTask, export_format: str) -> FileResponse:
    """Raises recognition.errors.ApiError subclasses for an unknown format or a failed export."""
    fmt = services.parse_format(export_format)
    export = selectors.export_newest(task=task, export_format=fmt)
    if export is None:
        export = services.export_create(task=task, export_format=fmt)
    extension = services.EXTENSIONS[fmt]
    name = f"{services.safe_name(task.book_id)}_{task.task_id[:8]}.{extension}"
    response = FileResponse(open(export.file_path, "rb"), as_attachment=True, filename=name,
                            content_type=f"{CONTENT_TYPES[extension]}; charset=utf-8")
    response["X-Export-Id"] = export.export_id
    return response
