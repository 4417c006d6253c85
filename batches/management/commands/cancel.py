"""manage.py cancel TASK_ID: cancel a scan (no page starts afterwards)."""

from django.core.management.base import BaseCommand, CommandError

from batches import services
from core.errors import ApiError


class Command(BaseCommand):
    help = "取消批量扫描任务"

    def add_arguments(self, parser):
        parser.add_argument("task_id")

    def handle(self, *args, **opts):
        try:
            task = services.task_cancel(task_id=opts["task_id"])
        except ApiError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(f"task_id={task.task_id} status={task.status} processed={task.processed_files}")
