"""Books: one row per book (族谱 or project), keyed by the client's `book_id` (seed table `books`)."""

from django.db import models


class Book(models.Model):
    book_id = models.CharField(max_length=255, unique=True, help_text="书籍唯一标识（客户端给出）")
    title = models.CharField(max_length=500, blank=True, default="")
    author = models.CharField(max_length=255, blank=True, default="")
    category = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(blank=True, default="")
    source_directory = models.CharField(max_length=1000, blank=True, default="")
    total_pages = models.IntegerField(default=0)
    total_volumes = models.IntegerField(default=0)
    metadata = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "books"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or self.book_id
