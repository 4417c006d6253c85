"""Input and (for the OpenAPI docs) output shapes of the batch endpoints. Option values (lang, layout,
format) are checked by the recognition service's own validation, in services.ScanOptions.from_raw, so both
APIs accept the same values."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.naming import CamelCaseTwins
from core.statuses import TaskStatus
from recognition.pipeline.formats import OUTPUT_FORMATS
from recognition.pipeline.reading_order import TEXT_LAYOUTS
from recognition.serializers import LANGS

STATUSES = TaskStatus.values
# The values exports.models.ExportFormat holds (batches does not import exports, which depends on it).
EXPORT_FORMATS = ["json", "csv", "txt", "pdf", "hocr", "alto"]


# Documentation-only field types: validation stays with services.ScanOptions.from_raw (one set of rules for
# both APIs, with its own error codes); the docs show the values it accepts.
@extend_schema_field({"type": "boolean", "nullable": True})
class FlagField(serializers.JSONField):
    """true/false (also "true"/"false"/1/0 as the recognition form fields); checked by ScanOptions."""


def choice_doc(values, nullable: bool = True):
    @extend_schema_field({"type": "string", "enum": list(values), **({"nullable": True} if nullable else {})})
    class DocumentedChoice(serializers.CharField):
        pass

    return DocumentedChoice


class ScanRequestSerializer(serializers.Serializer):
    """每个字段也可用 camelCase 写法（如 bookId、autoStart，供 Java 客户端）；两种写法同时给出且取值不同时返回 400 INVALID_PARAMETER。"""

    book_id = serializers.CharField(max_length=255, help_text="书籍唯一标识，如 廖氏族谱")
    directory = serializers.CharField(max_length=1000, help_text="服务器上的目录：绝对路径，或相对第一个 SCAN_ROOTS 的路径；必须在 SCAN_ROOTS 之内")
    task_name = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                      help_text="任务名称（可选）")
    lang = (choice_doc(LANGS) if LANGS else serializers.CharField)(
        required=False, allow_null=True, allow_blank=True, help_text="识别语言，默认 OCR_LANG（ch）")
    use_angle_cls = FlagField(required=False, allow_null=True, help_text="是否使用方向分类，默认 true")
    text_layout = choice_doc(TEXT_LAYOUTS)(
        required=False, allow_null=True, allow_blank=True,
        help_text="auto（默认 OCR_TEXT_LAYOUT：每页按其文字方向）、horizontal、vertical_rl、vertical_lr")
    output_format = choice_doc(OUTPUT_FORMATS)(required=False, allow_null=True, allow_blank=True,
                                               help_text="line_by_line（默认）、column_by_column、char_by_char")
    recursive = FlagField(required=False, allow_null=True, help_text="是否扫描子目录，默认 true")
    file_patterns = serializers.ListField(child=serializers.CharField(max_length=100), required=False,
                                          allow_null=True, max_length=50,
                                          help_text="文件名模式（不区分大小写），默认所有支持的图片和 PDF")
    priority = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10,
                                        help_text="优先级 1–10，默认 TASK_DEFAULT_PRIORITY")
    auto_start = serializers.BooleanField(required=False, default=True, help_text="创建后立即开始，默认 true")


class ExportRequestSerializer(serializers.Serializer):
    """每个字段也可用 camelCase 写法（如 taskId、includeDetails，供 Java 客户端）；两种写法同时给出且取值不同时返回 400 INVALID_PARAMETER。"""

    task_id = serializers.CharField(max_length=36, help_text="任务 ID")
    format = choice_doc(EXPORT_FORMATS, nullable=False)(
        required=False, default="json",
        help_text="json（默认）、csv、txt、pdf（可检索 PDF：页面图像加不可见文字层）、hocr（hOCR）、alto（ALTO 4 XML）")
    include_details = serializers.BooleanField(required=False, default=False,
                                               help_text="JSON 中包含每行的文字框和置信度")


class TaskListQuerySerializer(serializers.Serializer):
    # An empty value (`?status=`) means no filter, as an omitted one.
    status = serializers.ChoiceField(choices=STATUSES, required=False, allow_blank=True, help_text="只列出该状态的任务")
    book_id = serializers.CharField(required=False, allow_blank=True, max_length=255, help_text="只列出该书的任务")
    page = serializers.IntegerField(required=False, min_value=1, help_text="页码，从 1 开始；超出范围返回 404")
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200, help_text="每页任务数，默认 20，最多 200")


SEARCH_MAX_QUERY = 100
SEARCH_MAX_PAGE_SIZE = 100


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=SEARCH_MAX_QUERY,
                              help_text="要检索的文字：一个或多个字，按子串匹配（一个字即可，如姓氏）；繁简体互通（陈 与 陳），不分大小写，忽略空格")
    book_id = serializers.CharField(required=False, allow_blank=True, max_length=255, help_text="只检索该书")
    volume = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="只检索该卷（如 1）")
    task_id = serializers.CharField(required=False, allow_blank=True, max_length=36, help_text="只检索该任务")
    page = serializers.IntegerField(required=False, default=1, min_value=1, help_text="页码，从 1 开始；超出范围返回 404")
    page_size = serializers.IntegerField(required=False, default=20, min_value=1, max_value=SEARCH_MAX_PAGE_SIZE,
                                         help_text=f"每页结果数，默认 20，最多 {SEARCH_MAX_PAGE_SIZE}")


# --- Output shapes (documentation only) ---------------------------------------------------------------------
# CamelCaseTwins: the answers also carry taskId, processedFiles, ... for the seed's Java clients (core/naming.py).

class TaskSummarySerializer(CamelCaseTwins, serializers.Serializer):
    success = serializers.BooleanField()
    task_id = serializers.CharField()
    book_id = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(STATUSES))
    total_files = serializers.IntegerField()
    progress = serializers.FloatField()
    message = serializers.CharField()


class PageSerializer(CamelCaseTwins, serializers.Serializer):
    page_id = serializers.CharField()
    file_name = serializers.CharField()
    relative_path = serializers.CharField()
    volume = serializers.IntegerField(allow_null=True)
    page_number = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    success = serializers.BooleanField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    processing_time = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    updated_at = serializers.DateTimeField()


class TaskSerializer(CamelCaseTwins, serializers.Serializer):
    task_id = serializers.CharField()
    book_id = serializers.CharField()
    task_name = serializers.CharField()
    source_directory = serializers.CharField()
    status = serializers.CharField(help_text=" | ".join(STATUSES))
    progress = serializers.FloatField(help_text="0–100")
    total_files = serializers.IntegerField()
    processed_files = serializers.IntegerField()
    success_files = serializers.IntegerField()
    failed_files = serializers.IntegerField()
    lang = serializers.CharField()
    use_angle_cls = serializers.BooleanField()
    text_layout = serializers.CharField()
    output_format = serializers.CharField()
    recursive = serializers.BooleanField()
    file_patterns = serializers.ListField(child=serializers.CharField(), allow_null=True)
    priority = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)


class TaskStatusSerializer(TaskSerializer):
    recent_pages = PageSerializer(many=True)


class TaskListSerializer(serializers.Serializer):
    tasks = TaskSerializer(many=True)
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class SearchLineSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="含检索词的行（识别原文）")
    box = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()), allow_null=True,
                                help_text="该行文字框：四个 [x, y] 点，页面图像像素坐标")
    index = serializers.IntegerField(help_text="该行在文件所有行中的序号（阅读顺序，从 0 开始）")
    page = serializers.IntegerField(help_text="该行所在的文件页（PDF、多页 TIFF），从 1 开始")
    start = serializers.IntegerField(help_text="检索词在 text 中的起始字符位置")
    end = serializers.IntegerField(help_text="检索词在 text 中的结束字符位置（不含）")
    snippet_start = serializers.IntegerField(help_text="检索词在 snippet 中的起始字符位置")
    snippet_end = serializers.IntegerField(help_text="检索词在 snippet 中的结束字符位置（不含）")


class SearchResultSerializer(CamelCaseTwins, serializers.Serializer):
    task_id = serializers.CharField()
    book_id = serializers.CharField()
    page_id = serializers.CharField()
    relative_path = serializers.CharField()
    volume = serializers.IntegerField(allow_null=True)
    page_number = serializers.IntegerField(allow_null=True)
    snippet = serializers.CharField(help_text="命中处前后的文字（截断处为 …）")
    hits = serializers.IntegerField(help_text="该页含检索词的行数")
    line = SearchLineSerializer(allow_null=True, help_text="第一处命中的行")


class SearchResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    query = serializers.CharField(help_text="规范化后的检索词（简体、小写、无空格）")
    results = SearchResultSerializer(many=True)
    count = serializers.IntegerField(help_text="命中页数")
    count_exact = serializers.BooleanField(
        help_text="false：候选页过多，只核对了书序中前一部分，count 是下限，翻页只到已找到的结果（请按书或卷缩小范围）")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


class ExportResponseSerializer(CamelCaseTwins, serializers.Serializer):
    success = serializers.BooleanField()
    export_id = serializers.CharField()
    task_id = serializers.CharField()
    format = serializers.CharField()
    file_path = serializers.CharField()
    download_url = serializers.CharField()
    file_size = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField()


class BatchErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = serializers.CharField(help_text="稳定的错误码，如 DUPLICATE_TASK、PATH_NOT_ALLOWED、TASK_NOT_FOUND")
    message = serializers.CharField()
    existing_task = serializers.DictField(required=False, help_text="DUPLICATE_TASK：已有任务的 task_id、status、progress")
