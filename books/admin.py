"""Admin of books (operators): list, search, the book's tasks."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.html import format_html

from core.admin_support import DateHierarchyMixin

from .models import Book


@admin.register(Book)
class BookAdmin(DateHierarchyMixin, admin.ModelAdmin):
    list_display = ("book_id", "title", "author", "category", "total_pages", "total_volumes", "task_count",
                    "created_at")
    list_filter = ("category", "created_at")
    search_fields = ("book_id", "title", "author", "source_directory")
    readonly_fields = ("source_directory", "total_pages", "total_volumes", "task_count", "tasks_link", "created_at",
                       "updated_at")
    fields = ("book_id", "title", "author", "category", "description", "metadata", "source_directory",
              "total_pages", "total_volumes", "task_count", "tasks_link", "created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_task_count=Count("tasks"))

    @admin.display(description="任务数", ordering="_task_count")
    def task_count(self, obj):
        return obj._task_count if hasattr(obj, "_task_count") else obj.tasks.count()

    @admin.display(description="任务")
    def tasks_link(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("admin:batches_batchtask_changelist") + "?" + urlencode({"book__book_id__exact": obj.book_id})
        return format_html('<a href="{}">查看该书的全部任务</a>', url)
