"""manage.py scan BOOK_ID DIRECTORY: create and start a scan, then show a live progress bar until it ends.

The directory is listed first (the `scanning` state: the bar counts the files found), then the pages are
read. By default the listing of a large tree and the pages go to the Celery workers (start one with the
README's run command, or `celery -A ocrsite worker`); `--inline` lists and runs them in this process
instead, through the same services the workers call, so it works with no worker at all (embedded mode on a
laptop) and safely next to running workers. `--no-wait` returns after creating the task (with `--inline`:
once it is listed).

Exit status: 0 completed with every page read, 2 completed with failed pages, 1 failed, cancelled, or
refused (duplicate task, directory outside SCAN_ROOTS, ...).
"""

import logging
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from batches import selectors, services
from batches.models import OcrResult
from core.errors import ApiError
from core.statuses import UNFINISHED_STATUSES, PageStatus, TaskStatus
from recognition.pipeline.formats import OUTPUT_FORMATS
from recognition.pipeline.reading_order import TEXT_LAYOUTS

# What the services log page by page at INFO would scroll between the progress bar's updates.
QUIET_LOGGERS = ("batches", "recognition", "exports", "books", "celery", "kombu")


class Command(BaseCommand):
    help = "创建并启动目录扫描任务，显示进度直到结束（--inline 在本进程内处理，无需 worker）"

    def add_arguments(self, parser):
        parser.add_argument("book_id")
        parser.add_argument("directory")
        parser.add_argument("--lang", default=None)
        parser.add_argument("--no-angle-cls", action="store_true", help="不使用角度分类")
        parser.add_argument("--layout", dest="text_layout", default=None, choices=TEXT_LAYOUTS,
                            help=" | ".join(TEXT_LAYOUTS) + "（默认 OCR_TEXT_LAYOUT）")
        parser.add_argument("--format", dest="output_format", default=None, choices=OUTPUT_FORMATS,
                            help=" | ".join(OUTPUT_FORMATS))
        parser.add_argument("--no-recursive", action="store_true")
        parser.add_argument("--pattern", action="append", dest="file_patterns", help="文件名模式，可重复")
        parser.add_argument("--priority", type=int, default=None)
        parser.add_argument("--inline", action="store_true", help="在本进程内处理页面（不需要 Celery worker）")
        parser.add_argument("--no-wait", action="store_true", help="创建并启动后立即返回")
        parser.add_argument("--timeout", type=float, default=0, help="等待的最长秒数（0 = 不限）")
        parser.add_argument("--interval", type=float, default=1.0, help="轮询间隔秒数")

    def handle(self, *args, **opts):
        quiet = [logging.getLogger(name) for name in QUIET_LOGGERS] if opts["verbosity"] < 2 else []
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.WARNING)
        try:
            self._scan(opts)
        finally:
            for logger, level in zip(quiet, levels):
                logger.setLevel(level)

    def _scan(self, opts):
        try:
            options = services.ScanOptions.from_raw({
                "lang": opts["lang"], "use_angle_cls": not opts["no_angle_cls"], "text_layout": opts["text_layout"],
                "output_format": opts["output_format"], "recursive": not opts["no_recursive"],
                "file_patterns": opts["file_patterns"]})
            task = services.task_create(book_id=opts["book_id"], directory=opts["directory"], options=options,
                                        priority=opts["priority"], send=not opts["inline"])
        except ApiError as error:
            extra = f" {error.extra}" if error.extra else ""
            raise CommandError(f"{error.code}: {error.message}{extra}", returncode=1) from None
        if opts["inline"]:
            task = self._list_inline(task)
        self.stdout.write(f"task_id={task.task_id} book_id={task.book_id} total_files={task.total_files}")
        self.stdout.flush()
        if opts["no_wait"]:
            return
        task = self._follow(task, opts)
        self.stdout.write(f"status={task.status} processed={task.processed_files} success={task.success_files} "
                          f"failed={task.failed_files}")
        if task.error_message:
            self.stdout.write(f"error={task.error_message}")
        failed = (OcrResult.objects.filter(task=task, status=PageStatus.FAILED).order_by("sequence")
                  .values_list("relative_path", "error_message"))
        for relative_path, error_message in failed.iterator():
            self.stdout.write(f"failed: {relative_path}: {error_message}")
        self.stdout.flush()
        if task.status != TaskStatus.COMPLETED:
            sys.exit(1)
        if task.failed_files:
            sys.exit(2)

    def _list_inline(self, task):
        """Lists the directory in this process, counting the files found on a bar, and starts the task."""
        from tqdm import tqdm

        with tqdm(unit="个文件", desc=f"{task.book_id} 列出文件", file=sys.stderr, dynamic_ncols=True,
                  mininterval=0.2) as bar:
            def listed(files, written):
                bar.n = files
                bar.set_postfix(written=written, refresh=False)
                bar.refresh()

            return services.task_list_files(task_id=task.task_id, on_progress=listed, send=False)

    def _follow(self, task, opts):
        from tqdm import tqdm

        bar = tqdm(total=task.total_files, unit="页", desc=task.book_id, file=sys.stderr, dynamic_ncols=True,
                   mininterval=0.2)

        def show(current):
            # While scanning, the bar counts the files listed so far; then the pages done of all of them.
            scanning = current.status == TaskStatus.SCANNING
            bar.total = None if scanning else current.total_files
            bar.unit = "个文件" if scanning else "页"
            bar.n = current.total_files if scanning else current.processed_files
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
                if task.status not in UNFINISHED_STATUSES:
                    return task
                if deadline and time.monotonic() > deadline:
                    raise CommandError(f"等待超时：任务 {task.task_id} 仍为 {task.status}", returncode=1)
                time.sleep(opts["interval"])
        finally:
            bar.close()
