"""manage.py retry TASK_ID: run again only the pages that failed or never ran (--inline: in this process)."""

from django.core.management.base import BaseCommand, CommandError

from batches import services
from core.errors import ApiError


class Command(BaseCommand):
    help = "重试任务中失败或未处理的页面"

    def add_arguments(self, parser):
        parser.add_argument("task_id")
        parser.add_argument("--inline", action="store_true", help="在本进程内处理（不需要 Celery worker）")

    def handle(self, *args, **opts):
        try:
            task, count = services.task_retry(task_id=opts["task_id"], send=not opts["inline"])
        except ApiError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(f"task_id={task.task_id} retried={count} status={task.status}")
        if opts["inline"] and count:
            task = services.task_run_inline(task_id=task.task_id)
            self.stdout.write(f"status={task.status} success={task.success_files} failed={task.failed_files}")
