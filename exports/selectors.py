"""Reads of exports."""

from pathlib import Path

from django.utils import timezone

from batches.models import BatchTask

from .models import Export, ExportStatus


def export_newest(*, task: BatchTask, export_format: str) -> Export | None:
    """The newest finished, unexpired export of that format whose file is still there."""
    candidates = (Export.objects.filter(task=task, export_format=export_format, status=ExportStatus.COMPLETED)
                  .order_by("-created_at", "-id"))
    for export in candidates[:5]:
        if export.expires_at and export.expires_at < timezone.now():
            continue
        if export.file_path and Path(export.file_path).is_file():
            return export
    return None


def export_list(*, task: BatchTask):
    return Export.objects.filter(task=task).order_by("-created_at", "-id")
