"""Chinese labels of the option values shown in the dashboard (the values themselves follow API.md)."""

from django.conf import settings

from core.statuses import TaskStatus

from recognition.document_output import RESPONSE_FORMATS
from recognition.pipeline.formats import OUTPUT_FORMATS
from recognition.pipeline.reading_order import TEXT_LAYOUTS

LANG_LABELS = {
    "ch": "中文（含英文）",
    "chinese_cht": "繁体中文",
    "en": "英文",
    "japan": "日文",
    "korean": "韩文",
}
LAYOUT_LABELS = {
    "horizontal": "横排（从上到下）",
    "vertical_rl": "竖排（从右到左，古籍、族谱）",
    "vertical_lr": "竖排（从左到右）",
    "auto": "自动（每页、每个区域按其文字方向：横排，或竖排从右到左）",
}
FORMAT_LABELS = {
    "line_by_line": "逐行（每个文本框一行）",
    "column_by_column": "按行/列合并",
    "char_by_char": "连续文本",
}
# `/`'s 结果: shown on the page (json), or downloaded as the file POST /recognize answers with (the formats
# named as the task page's downloads name them).
RESPONSE_LABELS = {
    "json": "在页面上查看",
    "pdf": "下载可检索 PDF",
    "hocr": "下载 hOCR",
    "alto": "下载 ALTO XML",
}
STATUS_LABELS = dict(TaskStatus.choices)
# Lines read with less confidence than this are highlighted in the overlays (the API flags them too).
LOW_CONFIDENCE = settings.OCR_LOW_CONFIDENCE


def lang_choices(langs):
    return [(lang, LANG_LABELS.get(lang, lang)) for lang in langs]


def layout_choices():
    return [(value, LAYOUT_LABELS.get(value, value)) for value in TEXT_LAYOUTS]


def format_choices():
    return [(value, FORMAT_LABELS.get(value, value)) for value in OUTPUT_FORMATS]


def response_choices():
    return [(value, RESPONSE_LABELS.get(value, value)) for value in RESPONSE_FORMATS]
