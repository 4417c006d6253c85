"""manage.py export TASK_ID [--format json|csv|txt|pdf|hocr|alto] [--details] [--output FILE]: export a task's
results in book order (recorded in the exports table, file under EXPORT_DIR; --output also copies it there).
A searchable PDF of a big book takes a while (each page image is read and encoded again): this command runs
it without an HTTP request waiting on it."""

import shutil

from django.core.management.base import BaseCommand, CommandError

from batches import selectors
from exports import services
from exports.models import ExportFormat
from core.errors import ApiError


class Command(BaseCommand):
    help = "导出任务结果（JSON / CSV / 纯文本 / 可检索 PDF / hOCR / ALTO）"

    def add_arguments(self, parser):
        parser.add_argument("task_id")
        parser.add_argument("--format", default="json", help=" | ".join(ExportFormat.values))
        parser.add_argument("--details", action="store_true", help="JSON 中包含每行的文字框和置信度")
        parser.add_argument("--output", default=None, help="另存一份到此路径")

    def handle(self, *args, **opts):
        task = selectors.task_get(opts["task_id"])
        if task is None:
            raise CommandError(f"TASK_NOT_FOUND: 任务不存在：{opts['task_id']}")
        try:
            export = services.export_create(task=task, export_format=opts["format"], include_details=opts["details"])
        except ApiError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        if opts["output"]:
            shutil.copyfile(export.file_path, opts["output"])
        self.stdout.write(f"export_id={export.export_id} pages={export.total_pages} size={export.file_size} "
                          f"file={opts['output'] or export.file_path}")
