"""The status vocabulary of tasks and pages: values as API.md names them, labels as the dashboard and admin
show them, and the groups the services ask about. Templates and scripts get these from the views."""

from django.db import models


class TaskStatus(models.TextChoices):
    SCANNING = "scanning", "扫描中"  # the directory is being listed into pages (batches/services/listing.py)
    PENDING = "pending", "待启动"
    QUEUED = "queued", "排队中"
    PROCESSING = "processing", "处理中"
    COMPLETED = "completed", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


ACTIVE_STATUSES = (TaskStatus.QUEUED, TaskStatus.PROCESSING)
UNFINISHED_STATUSES = (TaskStatus.SCANNING, TaskStatus.PENDING, TaskStatus.QUEUED, TaskStatus.PROCESSING)
FINISHED_STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class PageStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    PROCESSING = "processing", "处理中"
    SUCCESS = "success", "成功"
    FAILED = "failed", "失败"


DONE_PAGE_STATUSES = (PageStatus.SUCCESS, PageStatus.FAILED)
