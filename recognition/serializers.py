"""Request and response shapes of the recognition API, for validation-free documentation in OpenAPI.

Parsing is done by RecognitionOptions.from_raw (one place for the rules); these serializers describe the
same fields for drf-spectacular, so /docs shows every field with its meaning and allowed values.
"""

from django.conf import settings
from rest_framework import serializers

from core.naming import CamelCaseTwins
from documents.formats import FORMATS as DOCUMENT_FORMATS

from .pipeline.formats import OUTPUT_FORMATS
from .pipeline.reading_order import TEXT_LAYOUTS

LANG_HELP = "识别语言，默认 OCR_LANG（ch）。可选值见 GET /api/ocr/status 的 langs；未知语言返回 400 并列出可选值。"


def installed_langs() -> list[str]:
    """The languages of the installed models (what `lang` accepts), for the docs; empty when no model is
    installed (then any value is documented and the server answers ENGINE_UNAVAILABLE)."""
    from .engines import EngineUnavailable, available_langs

    try:
        return available_langs()
    except EngineUnavailable:
        return []


LANGS = installed_langs()


def lang_field(**kwargs):
    if LANGS:
        return serializers.ChoiceField(choices=LANGS, **kwargs)
    return serializers.CharField(**kwargs)


class RecognitionOptionsSerializer(serializers.Serializer):
    lang = lang_field(required=False, default=settings.OCR_LANG, help_text=LANG_HELP)
    use_angle_cls = serializers.BooleanField(
        required=False, default=True,
        help_text="用文本行方向分类器与识别置信度判断页面是否倒置（旋转 180°），并按正确方向识别。")
    detect_orientation = serializers.BooleanField(
        required=False, default=True,
        help_text="识别前判断整页方向（0°/90°/180°/270°）并转正；默认 OCR_DETECT_ORIENTATION（true）。"
                  "结果的 rotation 给出所转角度，坐标框仍以上传图片为准。")
    return_details = serializers.BooleanField(
        required=False, default=True, help_text="返回每行文字的置信度与坐标框；false 时 details 为 null。")
    text_layout = serializers.ChoiceField(
        choices=TEXT_LAYOUTS, required=False, default="auto",
        help_text="阅读顺序：auto 自动（默认，OCR_TEXT_LAYOUT）：每页、每个区域按其文字方向，竖列从右到左；"
                  "horizontal 横排（自上而下、自左而右）；vertical_rl 竖排从右到左（族谱、古籍）；"
                  "vertical_lr 竖排从左到右。各方向都识别多栏（逐栏读完）、跨栏标题与页脚、上下栏与双行小注。")
    output_format = serializers.ChoiceField(
        choices=OUTPUT_FORMATS, required=False, default="line_by_line",
        help_text="line_by_line 每个检测行一行；column_by_column 同一视觉行/列合并为一行；"
                  "char_by_char 全部文字连成一段（拉丁单词间保留空格）。")


class RecognizeRequestSerializer(RecognitionOptionsSerializer):
    file = serializers.FileField(help_text="图片或文档：JPEG、PNG、BMP、WebP、TIFF（多页）、PDF（多页）。按内容判断类型。")
    response_format = serializers.ChoiceField(
        choices=["json", *DOCUMENT_FORMATS], required=False, default="json",
        help_text="响应的形式：json（默认，识别结果）；pdf（可检索 PDF：页面图像加不可见文字层，可选择、复制、搜索）、"
                  "hocr（hOCR XHTML）、alto（ALTO 4 XML）以附件返回，每页一页，按阅读顺序。也可写作 responseFormat。")


class RecognizeBatchRequestSerializer(RecognitionOptionsSerializer):
    files = serializers.ListField(
        child=serializers.FileField(), min_length=1, max_length=settings.MAX_BATCH_FILES, help_text="重复的 files 字段，每个一个文件，最多 MAX_BATCH_FILES（默认 10）个。")


class DetailSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="该行文字")
    confidence = serializers.FloatField(help_text="置信度 0–1")
    box = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="四个 [x, y] 点，从左上角起顺时针，为用户所见（EXIF 旋转后）图片的像素坐标")
    low_confidence = serializers.BooleanField(
        help_text="置信度低于 OCR_LOW_CONFIDENCE（默认 0.8）：仍在 text 中，供人工复核")
    page = serializers.IntegerField(required=False, help_text="多页文件中的页码（从 1 开始）")


class RecognitionResultSerializer(CamelCaseTwins, serializers.Serializer):
    # CamelCaseTwins: processingTime beside processing_time, for the seed's Java clients (core/naming.py).
    success = serializers.BooleanField()
    text = serializers.CharField(help_text="按阅读顺序排列的文字")
    details = DetailSerializer(many=True, allow_null=True, help_text="与 text 同序的行；return_details=false 时为 null")
    processing_time = serializers.FloatField(help_text="服务器处理该文件的秒数")
    error = serializers.CharField(allow_null=True)
    width = serializers.IntegerField(required=False, help_text="单页图片的宽度（像素）")
    height = serializers.IntegerField(required=False, help_text="单页图片的高度（像素）")
    rotation = serializers.IntegerField(
        required=False, help_text="单页图片为正向阅读而逆时针转过的角度：0、90、180 或 270")
    pages = serializers.ListField(child=serializers.DictField(), required=False,
                                  help_text="多页文件（PDF、多页 TIFF）每页一个结果")


class BatchItemSerializer(RecognitionResultSerializer):
    file_name = serializers.CharField(help_text="上传的文件名")
    message = serializers.CharField(required=False, help_text="失败时的说明")


class ErrorSerializer(serializers.Serializer):
    """Every error of every endpoint (API.md, "Access"): extra keys (`field`, `allowed`, `max_bytes`,
    `retry_after`, ...) depend on the code."""

    success = serializers.BooleanField(default=False)
    error = serializers.CharField(help_text="稳定的错误代码，如 UNSUPPORTED_FORMAT、CORRUPT_IMAGE、INVALID_PARAMETER、"
                                            "UNAUTHENTICATED、FORBIDDEN、THROTTLED")
    message = serializers.CharField(help_text="给人看的说明（默认中文）")


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["healthy", "unhealthy"])
    version = serializers.CharField()
    checks = serializers.DictField(required=False, help_text="各项检查结果（不健康时）")


class StatusSerializer(serializers.Serializer):
    app = serializers.CharField()
    version = serializers.CharField()
    engine = serializers.CharField(help_text="OCR 引擎：onnxruntime 或 paddle")
    default_model = serializers.CharField()
    default_lang = serializers.CharField()
    langs = serializers.ListField(child=serializers.CharField(), help_text="可用的识别语言")
    models = serializers.ListField(child=serializers.DictField(), help_text="已安装的模型及其语言")
    loaded_models = serializers.ListField(child=serializers.DictField(), help_text="本进程已加载的模型")
    uptime_seconds = serializers.FloatField()
    requests = serializers.IntegerField(help_text="本进程处理的识别请求数")
    images = serializers.IntegerField(help_text="本进程识别的图片（页）数")
    errors = serializers.IntegerField()
    queue_depth = serializers.IntegerField(allow_null=True, help_text="批量扫描队列中等待的任务数")
