"""Admin of exports (operators): the files written for tasks, with a download link."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from dashboard.admin_support import DateHierarchyMixin

from .models import Export


@admin.register(Export)
class ExportAdmin(DateHierarchyMixin, admin.ModelAdmin):
    list_display = ("short_id", "task_link", "book_id", "export_format", "status", "total_pages", "size",
                    "created_at", "expires_at", "download_link")
    list_filter = ("export_format", "status", "created_at")
    search_fields = ("export_id", "book_id", "task__task_id", "file_path")
    list_select_related = ("task",)
    ordering = ("-created_at", "-id")
    readonly_fields = ("export_id", "task_link", "book_id", "export_format", "include_images", "include_details",
                       "status", "file_path", "size", "total_pages", "error_message", "expires_at", "created_at",
                       "download_link")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # exports are made by the task action “导出”

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="导出", ordering="export_id")
    def short_id(self, obj):
        return obj.export_id[:8]

    @admin.display(description="任务", ordering="task__task_id")
    def task_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:batches_batchtask_change", args=[obj.task.pk]),
                           obj.task_id[:8])

    @admin.display(description="大小", ordering="file_size")
    def size(self, obj):
        return filesizeformat(obj.file_size)

    @admin.display(description="下载")
    def download_link(self, obj):
        if obj.status != "completed":
            return "—"
        url = reverse("dashboard:download", args=[obj.task_id]) + f"?format={obj.export_format}"
        return format_html('<a href="{}">下载最新的 {}</a>', url, obj.get_export_format_display())
