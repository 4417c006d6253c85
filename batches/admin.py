"""Admin of batch tasks and their results (operators).

Tasks and results are shown read-only: every change goes through the batch services (the same functions the
REST API and the dashboard call), as admin actions that report what they did."""

from django.conf import settings
from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from core.admin_support import DateHierarchyMixin
from core.errors import ApiError
from core.timing import format_duration, task_timing

from . import services
from .models import BatchTask, OcrResult

INLINE_PAGES = 200


def progress_bar(task) -> str:
    value = float(task.progress or 0)
    colour = "#2da44e" if task.status == "completed" else "#1d6fd6"
    return format_html(
        '<span class="ocr-progress" title="{}%" style="white-space:nowrap">'
        '<span style="display:inline-block;vertical-align:middle;width:90px;height:12px;background:#e8ebef;'
        'border-radius:6px;overflow:hidden"><span style="display:block;width:{}%;height:100%;background:{}">'
        '</span></span>&nbsp;<span class="ocr-progress-value">{}%</span></span>',
        f"{value:.1f}", f"{value:.2f}", colour, f"{value:.1f}")


def dashboard_link(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


class ResultInlineFormSet(BaseInlineFormSet):
    """Shows the first INLINE_PAGES pages in book order (a book can have thousands); the task page of the
    dashboard lists them all."""

    def get_queryset(self):
        if not hasattr(self, "_limited_queryset"):
            self._limited_queryset = super().get_queryset().order_by("sequence")[:INLINE_PAGES]
        return self._limited_queryset


class OcrResultInline(admin.TabularInline):
    model = OcrResult
    formset = ResultInlineFormSet
    fields = ("sequence", "page_link", "volume", "page_number", "status", "confidence", "processing_time",
              "error_message")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name = "页面"
    verbose_name_plural = f"页面（按书中顺序，最多显示 {INLINE_PAGES} 页）"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="文件（查看页面）")
    def page_link(self, obj):
        return dashboard_link(reverse("dashboard:page", args=[obj.task_id, obj.page_id]), obj.relative_path)


@admin.register(BatchTask)
class BatchTaskAdmin(DateHierarchyMixin, admin.ModelAdmin):
    # Fits a 1400-pixel window beside the admin's navigation and the filters (tests/test_admin_task_list_width.py):
    # the page counts under the progress bar, no 成功 column (processed − failed; on the task's page), compact
    # times (the long forms in their tooltips), widths in admin-overrides/task-list.css.
    list_display = ("short_id", "book_column", "status", "progress_list_column", "failed_column",
                    "duration_column", "pages_per_second", "created_column")
    list_display_links = ("short_id",)
    list_filter = ("status", "lang", "text_layout", "output_format", "owner", "created_at")
    search_fields = ("task_id", "task_name", "book__book_id", "book__title", "source_directory",
                     "results__file_name", "results__relative_path", "results__raw_text")
    list_select_related = ("book",)
    list_per_page = 50
    ordering = ("-created_at", "-id")
    inlines = [OcrResultInline]
    # exports/admin.py adds the export actions (exports depends on batches, not the other way round).
    actions = ["cancel_tasks", "retry_failed_pages", "delete_tasks"]
    readonly_fields = ("task_id", "book", "owner", "task_name", "source_directory", "lang", "use_angle_cls", "text_layout",
                       "output_format", "recursive", "file_patterns", "status", "priority", "progress_column",
                       "total_files", "processed_files", "success_files", "failed_files", "duration",
                       "pages_per_second", "eta", "low_confidence_pages", "celery_task_id", "error_message",
                       "created_at", "started_at", "completed_at", "updated_at", "dashboard_links")
    fieldsets = (
        (None, {"fields": ("task_id", "book", "owner", "task_name", "status", "progress_column", "dashboard_links")}),
        ("进度", {"fields": ("total_files", "processed_files", "success_files", "failed_files",
                           "low_confidence_pages", "duration", "pages_per_second", "eta")}),
        ("选项", {"fields": ("source_directory", "lang", "use_angle_cls", "text_layout", "output_format",
                           "recursive", "file_patterns", "priority")}),
        ("时间与错误", {"fields": ("created_at", "started_at", "completed_at", "updated_at", "celery_task_id",
                              "error_message")}),
    )

    class Media:
        css = {"all": ("admin-overrides/task-list.css",)}

    # Tasks are created by scans and changed by the actions only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_tasks (results and files too)
        return actions

    def delete_model(self, request, obj):
        services.task_delete(task_id=obj.task_id)

    def delete_queryset(self, request, queryset):
        for task_id in list(queryset.values_list("task_id", flat=True)):
            services.task_delete(task_id=task_id)

    # --- Columns ---------------------------------------------------------------------------------------------

    @admin.display(description="任务", ordering="task_id")
    def short_id(self, obj):
        return obj.task_id[:8]

    @admin.display(description="书籍", ordering="book__book_id")
    def book_column(self, obj):
        return obj.book_id

    @admin.display(description="失败", ordering="failed_files")
    def failed_column(self, obj):
        return obj.failed_files

    @admin.display(description="进度", ordering="progress")
    def progress_column(self, obj):
        return progress_bar(obj)

    @admin.display(description="进度（已处理/总数）", ordering="progress")
    def progress_list_column(self, obj):
        return format_html('{}<span class="ocr-files">{}/{}</span>', progress_bar(obj), obj.processed_files,
                           obj.total_files)

    @admin.display(description="用时")
    def duration_column(self, obj):
        """`10:33:00`, `0:02:05`, `4.2 秒` (the change page and the tooltip: `10 小时 33 分 00 秒`)."""
        elapsed = task_timing(obj).elapsed
        if elapsed is None or elapsed.total_seconds() < 60:
            return format_duration(elapsed)
        hours, rest = divmod(int(round(elapsed.total_seconds())), 3600)
        return format_html('<span title="{}">{}</span>', format_duration(elapsed),
                           f"{hours}:{rest // 60:02d}:{rest % 60:02d}")

    @admin.display(description="创建时间", ordering="created_at")
    def created_column(self, obj):
        """`2026-12-29 07:59` in the server's time zone (Django's own format for zh-hans is twice as wide)."""
        return format_html('<time datetime="{}" title="{}">{}</time>', obj.created_at.isoformat(),
                           formats.localize(timezone.localtime(obj.created_at)),
                           timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M"))

    @admin.display(description="用时")
    def duration(self, obj):
        return format_duration(task_timing(obj).elapsed)

    @admin.display(description="页/秒")
    def pages_per_second(self, obj):
        rate = task_timing(obj).pages_per_second
        return "—" if rate is None else f"{rate:.2f}"

    @admin.display(description="预计剩余")
    def eta(self, obj):
        return format_duration(task_timing(obj).eta)

    @admin.display(description=f"低置信度页面（<{settings.OCR_LOW_CONFIDENCE}）")
    def low_confidence_pages(self, obj):
        return obj.results.filter(confidence__lt=settings.OCR_LOW_CONFIDENCE).count()

    @admin.display(description="控制台")
    def dashboard_links(self, obj):
        return format_html('<a href="{}">在控制台查看任务</a> · <a href="{}">该书的全部任务</a>',
                           reverse("dashboard:task", args=[obj.task_id]),
                           reverse("admin:batches_batchtask_changelist") + "?"
                           + urlencode({"book__book_id__exact": obj.book_id}))

    # --- Actions (each one service call per task, reported) -------------------------------------------------

    def _each(self, request, queryset, verb, call):
        done, failed = [], []
        for task in queryset:
            try:
                outcome = call(task)
            except ApiError as error:
                failed.append(f"{task.task_id[:8]}：{error.message}")
            else:
                done.append(outcome)
        if done:
            self.message_user(request, f"已{verb} {len(done)} 个任务：" + "；".join(done), messages.SUCCESS)
        if failed:
            self.message_user(request, f"{len(failed)} 个任务无法{verb}：" + "；".join(failed), messages.WARNING)

    @admin.action(description="取消所选任务")
    def cancel_tasks(self, request, queryset):
        def cancel(task):
            task = services.task_cancel(task_id=task.task_id)
            return f"{task.task_id[:8]}（已处理 {task.processed_files}/{task.total_files} 页）"

        self._each(request, queryset, "取消", cancel)

    @admin.action(description="重试所选任务的失败页面")
    def retry_failed_pages(self, request, queryset):
        def retry(task):
            task, count = services.task_retry(task_id=task.task_id)
            return f"{task.task_id[:8]}（重新识别 {count} 页）"

        self._each(request, queryset, "重试", retry)

    @admin.action(description="删除所选任务（含识别结果和导出文件）")
    def delete_tasks(self, request, queryset):
        def delete(task):
            pages = task.total_files
            exports = task.exports.count()
            services.task_delete(task_id=task.task_id)
            return f"{task.task_id[:8]}（{pages} 页结果，{exports} 个导出文件）"

        self._each(request, queryset, "删除", delete)


class LowConfidenceFilter(admin.SimpleListFilter):
    title = "置信度"
    parameter_name = "confidence"

    def lookups(self, request, model_admin):
        return [("low", f"低于 {settings.OCR_LOW_CONFIDENCE}"), ("ok", f"不低于 {settings.OCR_LOW_CONFIDENCE}")]

    def queryset(self, request, queryset):
        if self.value() == "low":
            return queryset.filter(confidence__lt=settings.OCR_LOW_CONFIDENCE)
        if self.value() == "ok":
            return queryset.filter(confidence__gte=settings.OCR_LOW_CONFIDENCE)
        return queryset


@admin.register(OcrResult)
class OcrResultAdmin(DateHierarchyMixin, admin.ModelAdmin):
    list_display = ("file_name", "task_link", "book_id", "sequence", "volume", "page_number", "status",
                    "confidence", "processing_time", "attempts", "view_link")
    list_filter = ("status", "success", LowConfidenceFilter, "created_at")
    search_fields = ("file_name", "relative_path", "raw_text", "book_id", "task__task_id")
    list_select_related = ("task",)
    list_per_page = 100
    ordering = ("-created_at", "task", "sequence")
    readonly_fields = ("task_link", "book_id", "page_id", "file_name", "relative_path", "sequence", "volume",
                       "page_number", "status", "success", "raw_text", "confidence", "processing_time", "file_size",
                       "content_hash", "error_message", "attempts", "claimed_at", "created_at", "updated_at",
                       "view_link", "line_count")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # results go with their task (delete the task)

    @admin.display(description="任务", ordering="task__task_id")
    def task_link(self, obj):
        return dashboard_link(reverse("admin:batches_batchtask_change", args=[obj.task.pk]), obj.task_id[:8])

    @admin.display(description="查看")
    def view_link(self, obj):
        return dashboard_link(reverse("dashboard:page", args=[obj.task_id, obj.page_id]), "查看页面")

    @admin.display(description="行数")
    def line_count(self, obj):
        data = obj.json_data or {}
        return len(data.get("details") or []) if isinstance(data, dict) else len(data)
