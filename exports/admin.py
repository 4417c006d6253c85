"""Admin of exports (operators): the files written for tasks, with a download link; and the task list's
export actions, which this app adds to the batches app's task admin."""

from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html

from batches.admin import BatchTaskAdmin
from core.admin_support import DateHierarchyMixin
from core.errors import ApiError

from .models import Export, ExportFormat
from .services import export_create


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


def _export_tasks(model_admin, request, queryset, fmt):
    done, failed = [], []
    for task in queryset:
        try:
            record = export_create(task=task, export_format=fmt)
        except ApiError as error:
            failed.append(f"{task.task_id[:8]}：{error.message}")
            continue
        url = reverse("dashboard:download", args=[task.task_id]) + f"?format={fmt}"
        done.append(format_html('{}（{} 页，{} 字节，<a href="{}">下载</a>）', task.task_id[:8], record.total_pages,
                                record.file_size, url))
    if done:
        model_admin.message_user(request, format_html("已导出 {} 个任务（{}）：", len(done), fmt.upper())
                                 + format_html("；".join(["{}"] * len(done)), *done), messages.SUCCESS)
    if failed:
        model_admin.message_user(request, f"{len(failed)} 个任务无法导出：" + "；".join(failed), messages.WARNING)


def _export_action(fmt: str):
    """The task list's action "export the selected tasks" in one format, named export_<format>."""
    def action(model_admin, request, queryset):
        _export_tasks(model_admin, request, queryset, fmt)

    action.__name__ = f"export_{fmt}"
    return admin.action(description=f"导出所选任务（{ExportFormat(fmt).label}）")(action)


BatchTaskAdmin.actions = [*BatchTaskAdmin.actions, *(_export_action(fmt) for fmt in ExportFormat.values)]
