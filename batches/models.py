"""Batch scanning data: one BatchTask per scan of a directory, one OcrResult per file (page) of it.

Seed tables `batch_tasks` and `ocr_results`, with their columns, plus what safe repetition needs:

* every file of a scan gets its OcrResult row while the task is `scanning` (status `pending`), unique per
  (task, path_hash) where path_hash = sha256(relative_path) (a unique index on the 1000-character path itself
  would exceed InnoDB's 3072-byte key limit in utf8mb4). Running a page again updates that row, never adds one;
* `sequence` is the page's position in book order (volume, page number, natural file order), fixed at scan
  time, so that exports read the book in order from an index;
* `listing_done` is set once every file has its row and `sequence` holds book order (a task cancelled or
  failed while `scanning` has not: its retry lists the directory again); `start_when_listed` is
  whether the task starts (pending → queued) the moment its listing ends (auto_start, or started meanwhile);
* `celery_task_id` (a seed column) is the run of the listing that owns a `scanning` task (listing.py);
* `active_fingerprint` is sha256(resolved directory + options) while the task is unfinished and NULL once it
  is finished; its unique index makes duplicate detection atomic (MySQL and SQLite allow many NULLs);
* `sent_at` is when a message for the page was last sent: a page is "in flight" from then until it is done,
  and the dispatch window (batches/services/dispatch.py) counts those. NULL: never sent;
* `claimed_by` + `lease_expires_at` are the lease of the worker process reading the page (renewed by its
  heartbeat): a delivery finding a live lease of another holder is a duplicate, an expired one a lost worker.
"""

from django.conf import settings
from django.db import models

from core.ids import new_uuid
from core.statuses import FINISHED_STATUSES, PageStatus, TaskStatus


class BatchTask(models.Model):
    task_id = models.CharField("任务 ID", max_length=36, unique=True, default=new_uuid)
    book = models.ForeignKey("books.Book", to_field="book_id", db_column="book_id", on_delete=models.CASCADE,
                             related_name="tasks", verbose_name="书籍")
    task_name = models.CharField("任务名称", max_length=500, blank=True, default="")
    source_directory = models.CharField("源目录", max_length=1000, help_text="扫描目录（已解析的绝对路径）")
    lang = models.CharField("语言", max_length=10, default="ch")
    use_angle_cls = models.BooleanField("自动纠正方向", default=True)
    text_layout = models.CharField("排版", max_length=20, default="horizontal")
    output_format = models.CharField("输出格式", max_length=30, default="line_by_line")
    recursive = models.BooleanField("包含子目录", default=True, db_column="recursives")
    file_patterns = models.JSONField("文件匹配", null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    priority = models.IntegerField("优先级", default=5)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="batch_tasks", verbose_name="所有者",
                              help_text="创建任务的用户（令牌所属用户或登录用户）；为空表示本机或未登录创建")
    total_files = models.IntegerField("总文件数", default=0)
    processed_files = models.IntegerField("已处理数", default=0)
    success_files = models.IntegerField("成功数", default=0)
    failed_files = models.IntegerField("失败数", default=0)
    progress = models.DecimalField("进度", max_digits=5, decimal_places=2, default=0)
    listing_done = models.BooleanField("已列出文件", default=True, editable=False,
                                       help_text="所有文件已入库并按书序编号（扫描中为否）")
    start_when_listed = models.BooleanField("列出后启动", default=False, editable=False)
    celery_task_id = models.CharField("Celery 任务 ID", max_length=255, blank=True, default="")
    error_message = models.TextField("错误信息", blank=True, default="")
    active_fingerprint = models.CharField("去重指纹", max_length=64, null=True, blank=True, unique=True, editable=False,
                                          help_text="sha256(目录+选项)，任务未结束时有值，用于原子的重复检测")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        db_table = "batch_tasks"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="batch_task_status_created"),
            models.Index(fields=["-created_at"], name="batch_task_created"),
        ]
        verbose_name = "批量任务"
        verbose_name_plural = "批量任务"

    def __str__(self) -> str:
        return f"{self.book_id} {self.task_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES


class OcrResult(models.Model):
    task = models.ForeignKey(BatchTask, to_field="task_id", db_column="task_id", on_delete=models.CASCADE,
                             related_name="results", verbose_name="任务")
    book_id = models.CharField("书籍 ID", max_length=255, db_index=True)
    page_id = models.CharField("页面 ID", max_length=36, unique=True, default=new_uuid)
    file_name = models.CharField("文件名", max_length=255)
    relative_path = models.CharField("相对路径", max_length=1000, help_text="相对扫描目录的路径")
    path_hash = models.CharField("路径哈希", max_length=64, editable=False, help_text="sha256(relative_path)")
    sequence = models.IntegerField("序号", help_text="书中顺序：卷、页、自然文件顺序")
    volume = models.CharField("卷", max_length=100, null=True, blank=True)
    page_number = models.IntegerField("页码", null=True, blank=True)
    status = models.CharField("状态", max_length=20, choices=PageStatus.choices, default=PageStatus.PENDING)
    success = models.BooleanField("是否成功", null=True)
    raw_text = models.TextField("识别文本", blank=True, default="")
    json_data = models.JSONField("识别详情", null=True, blank=True, help_text="每行的 text、confidence、box")
    confidence = models.DecimalField("置信度", max_digits=5, decimal_places=4, null=True, blank=True)
    processing_time = models.DecimalField("耗时（秒）", max_digits=10, decimal_places=3, null=True, blank=True)
    file_size = models.BigIntegerField("文件大小", null=True, blank=True)
    content_hash = models.CharField("内容哈希", max_length=64, blank=True, default="", help_text="sha256 of the file")
    error_message = models.TextField("错误信息", blank=True, default="")
    attempts = models.IntegerField("尝试次数", default=0, help_text="how many times a worker took this page")
    interrupted = models.IntegerField("中断次数", default=0,
                                      help_text="how many times a worker took it and never finished")
    claimed_at = models.DateTimeField("领取时间", null=True, blank=True)
    claimed_by = models.CharField("处理节点", max_length=255, blank=True, default="",
                                  help_text="the process holding the page: worker node name and pid")
    lease_expires_at = models.DateTimeField("租约到期", null=True, blank=True,
                                            help_text="the holder's claim lasts until then (renewed while it runs)")
    sent_at = models.DateTimeField("投递时间", null=True, blank=True,
                                   help_text="when a message for this page was last sent to the workers")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        db_table = "ocr_results"
        ordering = ["task", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["task", "path_hash"], name="ocr_result_one_row_per_file"),
        ]
        indexes = [
            models.Index(fields=["task", "sequence"], name="ocr_result_book_order"),
            # Pages of a task by status, and the most recent done ones (selectors.task_recent_pages).
            models.Index(fields=["task", "status", "updated_at"], name="ocr_result_task_status_time"),
            # The next pages of the window (pending, never sent, in book order) and the pages in flight.
            models.Index(fields=["task", "status", "sent_at", "sequence"], name="ocr_result_dispatch"),
        ]
        verbose_name = "识别结果"
        verbose_name_plural = "识别结果"

    def __str__(self) -> str:
        return f"{self.task_id}:{self.relative_path} ({self.status})"


class SearchText(models.Model):
    """One recognised page as search compares it (batches/search_text.py): its lines normalised, joined by
    "\\n". Keyed by (task, sequence), so that rows lie in book order (candidates are read in that order) and go
    with their task when it is deleted; written with the page's result (batches/services/search_index.py)."""

    pk = models.CompositePrimaryKey("task_id", "sequence")
    # No index of its own: the primary key starts with it (MySQL's foreign key uses that one).
    task = models.ForeignKey(BatchTask, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name="任务")
    sequence = models.IntegerField("序号")
    volume = models.CharField("卷", max_length=100, null=True, blank=True)
    text = models.BinaryField("规范化文字", help_text="UTF-8: matched byte for byte (any collation)")
    # False from the page's record until its grams' bits are set with the next pages' (search_index.py); the
    # database's default, so that inserts naming only the other columns (migration 0006) stay posted.
    posted = models.BooleanField("已编入索引", default=True, db_default=True)

    class Meta:
        db_table = "ocr_search_texts"
        # The pages waiting to be posted, of a task (page_record counts them) or of any (the sweeper).
        indexes = [models.Index(fields=["posted", "task"], name="ocr_search_texts_waiting")]
        verbose_name = "检索文字"
        verbose_name_plural = "检索文字"


class SearchPosting(models.Model):
    """Which pages of a block of 64 consecutive pages (by sequence) of a task contain a gram: one character,
    or two adjacent characters of a line (batches/search_text.py packs them into `gram`). Bit n of `bits` is
    page block * 64 + n. A query of one or two characters is answered from these rows alone, exactly, however
    many pages contain it; a longer one ANDs its pairs into candidates that SearchText confirms."""

    pk = models.CompositePrimaryKey("task_id", "gram", "block")
    # No index of its own: the primary key starts with it (MySQL's foreign key uses that one).
    task = models.ForeignKey(BatchTask, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name="任务")
    gram = models.BigIntegerField("字或字对", help_text="code point << 21 | next code point (0 for one character)")
    block = models.IntegerField("页块", help_text="sequence // 64")
    bits = models.BigIntegerField("页位图", help_text="bit n: page block * 64 + n (two's complement)")

    class Meta:
        db_table = "ocr_search_postings"
        verbose_name = "检索索引"
        verbose_name_plural = "检索索引"
