"""Export records (seed table `exports`): one row per file written under EXPORT_DIR."""

from django.db import models

from core.ids import new_uuid


class ExportFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    TXT = "txt", "纯文本"
    PDF = "pdf", "可检索 PDF"
    HOCR = "hocr", "hOCR"
    ALTO = "alto", "ALTO XML"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    PROCESSING = "processing", "处理中"
    COMPLETED = "completed", "已完成"
    FAILED = "failed", "失败"


class Export(models.Model):
    export_id = models.CharField("导出 ID", max_length=36, unique=True, default=new_uuid)
    task = models.ForeignKey("batches.BatchTask", to_field="task_id", db_column="task_id", on_delete=models.CASCADE,
                             related_name="exports", verbose_name="任务")
    book_id = models.CharField("书籍 ID", max_length=255, db_index=True)
    export_format = models.CharField("格式", max_length=10, choices=ExportFormat.choices)
    include_images = models.BooleanField("包含图片", default=False)
    include_details = models.BooleanField("包含详情", default=False)
    status = models.CharField("状态", max_length=20, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file_path = models.CharField("文件路径", max_length=1000, blank=True, default="")
    file_size = models.BigIntegerField("文件大小", default=0)
    total_pages = models.IntegerField("总页数", default=0)
    error_message = models.TextField("错误信息", blank=True, default="")
    expires_at = models.DateTimeField("过期时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        db_table = "exports"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["task", "export_format", "-created_at"], name="export_newest_by_format")]
        verbose_name = "导出记录"
        verbose_name_plural = "导出记录"

    def __str__(self) -> str:
        return f"{self.export_id} {self.export_format} ({self.status})"
