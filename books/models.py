"""Books: one row per book (族谱 or project), keyed by the client's `book_id` (seed table `books`)."""

from django.db import models


class Book(models.Model):
    book_id = models.CharField("书籍 ID", max_length=255, unique=True, help_text="书籍唯一标识（客户端给出）")
    title = models.CharField("书名", max_length=500, blank=True, default="")
    author = models.CharField("作者", max_length=255, blank=True, default="")
    category = models.CharField("分类", max_length=100, blank=True, default="")
    description = models.TextField("简介", blank=True, default="")
    source_directory = models.CharField("源目录", max_length=1000, blank=True, default="")
    total_pages = models.IntegerField("总页数", default=0)
    total_volumes = models.IntegerField("总卷数", default=0)
    metadata = models.JSONField("元数据", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        db_table = "books"
        ordering = ["-created_at"]
        verbose_name = "书籍"
        verbose_name_plural = "书籍"

    def __str__(self) -> str:
        return self.title or self.book_id
