"""The scan form: the directory is chosen from the subdirectories of settings.SCAN_ROOTS listed on the
server, so no path typed by a user is ever opened."""

import os
from pathlib import Path

from django import forms
from django.conf import settings

from batches.filenames import book_order_key

from .labels import format_choices, layout_choices

# Listing stops here: enough to pick a book folder, bounded for huge trees.
MAX_DEPTH = 3
MAX_DIRECTORIES = 1000


def scan_directories() -> list[tuple[str, str]]:
    """(absolute path, label) of each scan root and its subdirectories (hidden ones skipped), in book order."""
    choices: list[tuple[str, str]] = []
    for root in settings.SCAN_ROOTS:
        root = Path(root).resolve()
        if not root.is_dir():
            continue
        choices.append((str(root), f"{root}"))
        for current, dirs, _files in os.walk(root, followlinks=False):
            # The order of the pages: 卷二 before 卷三 before 卷十, 2 before 10.
            dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=book_order_key)
            depth = len(Path(current).relative_to(root).parts)
            if depth >= MAX_DEPTH:
                dirs[:] = []
            for name in dirs:
                path = Path(current) / name
                if path.is_symlink():
                    continue
                choices.append((str(path), f"{root.name}/{path.relative_to(root)}"))
                if len(choices) >= MAX_DIRECTORIES:
                    return choices
    return choices


class ScanForm(forms.Form):
    directory = forms.ChoiceField(label="扫描目录", help_text="只能选择配置的扫描根目录（SCAN_ROOTS）下的目录")
    book_id = forms.CharField(label="书籍 ID", max_length=255)
    lang = forms.ChoiceField(label="语言")
    text_layout = forms.ChoiceField(label="排版", choices=layout_choices, initial=settings.OCR_TEXT_LAYOUT)
    output_format = forms.ChoiceField(label="输出格式", choices=format_choices, initial="line_by_line")
    file_patterns = forms.CharField(label="文件匹配", required=False, max_length=500,
                                    help_text="如 *.jpg, *.png；留空则扫描所有支持的图片和 PDF",
                                    widget=forms.TextInput(attrs={"placeholder": "*.jpg, *.png"}))
    recursive = forms.BooleanField(label="包含子目录", required=False, initial=True)
    use_angle_cls = forms.BooleanField(label="自动纠正方向", required=False, initial=True)
    priority = forms.IntegerField(label="优先级", min_value=1, max_value=10, initial=settings.TASK_DEFAULT_PRIORITY)

    def __init__(self, *args, langs=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .labels import lang_choices

        self.fields["directory"].choices = [("", "— 请选择目录 —")] + scan_directories()
        self.fields["lang"].choices = lang_choices(langs or [settings.OCR_LANG])
        self.fields["lang"].initial = settings.OCR_LANG

    def clean_book_id(self):
        value = self.cleaned_data["book_id"].strip()
        if not value:
            raise forms.ValidationError("请填写书籍 ID")
        return value

    def clean_file_patterns(self):
        raw = self.cleaned_data.get("file_patterns") or ""
        patterns = [item.strip() for item in raw.replace("，", ",").replace(";", ",").replace(" ", ",").split(",")]
        patterns = [item for item in patterns if item]
        for pattern in patterns:
            if "/" in pattern or "\\" in pattern or ".." in pattern:
                raise forms.ValidationError(f"匹配模式 {pattern} 不能包含路径")
        return patterns or None
