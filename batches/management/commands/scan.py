"""manage.py scan BOOK_ID DIRECTORY: create and start a scan, then show a live progress bar until it ends.

By default the pages go to the Celery workers (start one with the README's run command, or
`celery -A ocrsite worker`); `--inline` runs them in this process instead, through the same service the
workers call, so it works with no worker at all (embedded mode on a laptop) and safely next to running
workers. `--no-wait` returns after creating the task.

Exit status: 0 completed with every page read, 2 completed with failed pages, 1 failed, cancelled, or
refused (duplicate task, directory outside SCAN_ROOTS, ...).
"""

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from batches import selectors, services
from core.statuses import ACTIVE_STATUSES, TaskStatus
from core.errors import ApiError


class Command(BaseCommand):
    help = "创建并启动目录扫描任务，显示进度直到结束（--inline 在本进程内处理，无需 worker）"

    def add_arguments(self, parser):
        parser.add_argument("book_id")
        parser.add_argument("directory")
        parser.add_argument("--lang", default=None)
        parser.add_argument("--no-angle-cls", action="store_true", help="不使用角度分类")
        parser.add_argument("--layout", dest="text_layout", default=None,
                            help="horizontal | vertical_rl | vertical_lr")
        parser.add_argument("--format", dest="output_format", default=None,
                            help="line_by_line | column_by_column | char_by_char")
        parser.add_argument("--no-recursive", action="store_true")
        parser.add_argument("--pattern", action="append", dest="file_patterns", help="文件名模式，可重复")
        parser.add_argument("--priority", type=int, default=None)
        parser.add_argument("--inline", action="store_true", help="在本进程内处理页面（不需要 Celery worker）")
        parser.add_argument("--no-wait", action="store_true", help="创建并启动后立即返回")
        parser.add_argument("--timeout", type=float, default=0, help="等待的最长秒数（0 = 不限）")
        parser.add_argument("--interval", type=float, default=1.0, help="轮询间隔秒数")

    def handle(self, *args, **opts):
        try:
            options = services.ScanOptions.from_raw({
                "lang": opts["lang"], "use_angle_cls": not opts["no_angle_cls"], "text_layout": opts["text_layout"],
                "output_format": opts["output_format"], "recursive": not opts["no_recursive"],
                "file_patterns": opts["file_patterns"]})
            task = services.task_create(book_id=opts["book_id"], directory=opts["directory"], options=options,
                                        priority=opts["priority"], auto_start=False)
            task = services.task_start(task_id=task.task_id, send=not opts["inline"])
        except ApiError as error:
            extra = f" {error.extra}" if error.extra else ""
            raise CommandError(f"{error.code}: {error.message}{extra}", returncode=1) from None
        self.stdout.write(f"task_id={task.task_id} book_id={task.book_id} total_files={task.total_files}")
        self.stdout.flush()
        if opts["no_wait"]:
            return
        task = self._follow(task, opts)
        self.stdout.write(f"status={task.status} processed={task.processed_files} success={task.success_files} "
                          f"failed={task.failed_files}")
        if task.error_message:
            self.stdout.write(f"error={task.error_message}")
        self.stdout.flush()
        if task.status != TaskStatus.COMPLETED:
            sys.exit(1)
        if task.failed_files:
            sys.exit(2)

    def _follow(self, task, opts):
        from tqdm import tqdm

        bar = tqdm(total=task.total_files, unit="页", desc=task.book_id, file=sys.stderr, dynamic_ncols=True,
                   mininterval=0.2)

        def show(current):
            bar.n = current.processed_files
            bar.set_postfix(status=current.status, ok=current.success_files, failed=current.failed_files,
                            refresh=False)
            bar.refresh()

        try:
            if opts["inline"]:
                task = services.task_run_inline(task_id=task.task_id, on_page=show)
                show(task)
                return task
            deadline = time.monotonic() + opts["timeout"] if opts["timeout"] else None
            while True:
                task = selectors.task_get(task.task_id)
                show(task)
                if task.status not in ACTIVE_STATUSES and task.status != TaskStatus.PENDING:
                    return task
                if deadline and time.monotonic() > deadline:
                    raise CommandError(f"等待超时：任务 {task.task_id} 仍为 {task.status}", returncode=1)
                time.sleep(opts["interval"])
        finally:
            bar.close()
