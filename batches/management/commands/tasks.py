"""manage.py tasks: list scan tasks, newest first (--status, --book, --limit); --requeue sends again, for every
running task, the pages waiting for a message and those whose worker's lease expired, and tops up the windows
(what the sweeper does by itself, without waiting for it)."""

from django.core.management.base import BaseCommand

from batches import selectors, services


class Command(BaseCommand):
    help = "列出批量扫描任务（最新在前）"

    def add_arguments(self, parser):
        parser.add_argument("--status", default=None)
        parser.add_argument("--book", dest="book_id", default=None)
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--requeue", action="store_true",
                            help="重新投递运行中任务的未完成页面（已投递未处理的，以及租约已过期的）")

    def handle(self, *args, **opts):
        if opts["requeue"]:
            sent = services.pages_requeue_stalled(include_waiting=True)
            self.stdout.write(f"requeued {sent} pages")
            return
        tasks = selectors.task_list(status=opts["status"], book_id=opts["book_id"])[:opts["limit"]]
        self.stdout.write(f"{'task_id':36}  {'status':10}  {'progress':>8}  {'ok/failed/total':>16}  book_id")
        for task in tasks:
            counts = f"{task.success_files}/{task.failed_files}/{task.total_files}"
            self.stdout.write(f"{task.task_id:36}  {task.status:10}  {float(task.progress):7.2f}%  {counts:>16}  "
                              f"{task.book_id}")
