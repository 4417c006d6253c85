"""Writes of batch scanning, one concern per module:

- scanning: which directories may be scanned, which files are pages, creating a task (`task_create`);
- listing: a `scanning` task's directory streamed into its pages, in book order (`task_list_files`);
- lifecycle: the task's state machine (start, cancel, retry, delete, completion) and its counters;
- pages: one page's claim and lease, heartbeat, recognition and record (`page_process`);
- dispatch: the window of pages in flight per task, and sending their messages;
- recovery: the sweeper and the requeue of a starting worker.

Callers use the names below (`from batches import services; services.task_create(...)`).
"""

from .lifecycle import task_cancel, task_delete, task_retry, task_start
from .listing import task_list_files
from .pages import page_process, page_record, task_run_inline
from .recovery import pages_requeue_stalled, sweep
from .scanning import ScanOptions, iter_scan_files, path_hash, resolve_scan_directory, scan_file, task_create

__all__ = ["ScanOptions", "iter_scan_files", "page_process", "page_record", "pages_requeue_stalled", "path_hash",
           "resolve_scan_directory", "scan_file", "sweep", "task_cancel", "task_create", "task_delete",
           "task_list_files", "task_retry", "task_run_inline", "task_start"]
