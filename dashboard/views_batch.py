"""`/batch`: task list with live progress, the scan form, task actions; a task's page; a page's view.

Every write goes through the batch services (batches.services, exports.services): the same functions the
REST API calls. Views only translate forms and service errors into pages and messages."""

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from batches import search_text
from batches import selectors as batch_selectors
from batches import services as batch_services
from batches.models import BatchTask, OcrResult
from batches.serializers import SEARCH_MAX_QUERY
from core.access import principal_of
from core.paths import inside_scan_roots, is_within
from core.statuses import FINISHED_STATUSES, UNFINISHED_STATUSES, PageStatus, TaskStatus
from exports.models import ExportFormat
from recognition import errors
from recognition.pipeline.decode import sniff_format

from . import previews
from .forms import ScanForm
from .labels import FORMAT_LABELS, LANG_LABELS, LAYOUT_LABELS, LOW_CONFIDENCE, STATUS_LABELS
from core.timing import task_timing
from .views_recognize import _langs

TASKS_PER_PAGE = 20
PAGES_PER_PAGE = 200
EXPORT_FORMATS = tuple(ExportFormat.values)


# --- JSON shapes the page scripts poll -----------------------------------------------------------------

def task_state(task: BatchTask) -> dict:
    return {
        "task_id": task.task_id,
        "status": task.status,
        "status_label": STATUS_LABELS.get(task.status, task.status),
        "progress": float(task.progress),
        "total_files": task.total_files,
        "processed_files": task.processed_files,
        "success_files": task.success_files,
        "failed_files": task.failed_files,
        "finished": task.status in FINISHED_STATUSES,
        "error": task.error_message or None,
        "started_at": _shown_time(task.started_at),
        "completed_at": _shown_time(task.completed_at),
        **task_timing(task).as_dict(),
    }


def _shown_time(value) -> str:
    """As the templates show a time (`Y-m-d H:i:s` in TIME_ZONE), for the scripts that update them."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


# --- Task list and scan form ---------------------------------------------------------------------------

def _task_list_context(request, form=None) -> dict:
    status = request.GET.get("status", "")
    book = request.GET.get("book", "").strip()
    if status not in STATUS_LABELS:
        status = ""
    tasks = batch_selectors.task_list(status=status or None, book_id=book or None,
                                      owner=principal_of(request)).select_related("book")
    page = Paginator(tasks, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "form": form or ScanForm(langs=_langs()),
        "page_obj": page,
        "tasks": list(page.object_list),
        "status": status,
        "book": book,
        "statuses": list(STATUS_LABELS.items()),
        "export_formats": EXPORT_FORMATS,
        "scan_roots": [str(root) for root in settings.SCAN_ROOTS],
        "unfinished": list(UNFINISHED_STATUSES),
        "finished": list(FINISHED_STATUSES),
    }


@login_required
@require_GET
def batch(request):
    return render(request, "dashboard/batch.html", _task_list_context(request))


@login_required
@require_POST
def scan(request):
    form = ScanForm(request.POST, langs=_langs())
    if form.is_valid():
        data = form.cleaned_data
        try:
            options = batch_services.ScanOptions.from_raw({
                "lang": data["lang"], "use_angle_cls": data["use_angle_cls"], "text_layout": data["text_layout"],
                "output_format": data["output_format"], "recursive": data["recursive"],
                "file_patterns": data["file_patterns"],
            })
            task = batch_services.task_create(book_id=data["book_id"], directory=data["directory"], options=options,
                                              priority=data["priority"], auto_start=True, owner=request.user)
        except errors.ApiError as error:
            existing = (error.extra or {}).get("existing_task")
            if existing:
                messages.error(request, f"{error.message}（已有任务 {existing['task_id']}，进度 {existing['progress']}%）")
            else:
                messages.error(request, f"无法创建任务：{error.message}")
        else:
            files = "正在列出文件" if task.status == TaskStatus.SCANNING else f"共 {task.total_files} 个文件"
            messages.success(request, f"已创建扫描任务 {task.task_id}（书籍 {task.book_id}，{files}）")
            return redirect("dashboard:batch")
    else:
        messages.error(request, "表单有误，请检查后重新提交")
    return render(request, "dashboard/batch.html", _task_list_context(request, form), status=400)


@login_required
@require_GET
def tasks_state(request):
    """{"tasks": [state, ...]} of the tasks named in ?ids=a,b,c (at most 100), for the list's progress bars."""
    ids = [value for value in request.GET.get("ids", "").split(",") if value][:100]
    tasks = batch_selectors.task_list(owner=principal_of(request)).filter(task_id__in=ids)
    return JsonResponse({"tasks": [task_state(task) for task in tasks]}, json_dumps_params={"ensure_ascii": False})


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


@login_required
@require_POST
def task_action(request, task_id: str, action: str):
    """cancel, retry, delete, export: one service call, its outcome as a message."""
    back = _back(request, reverse("dashboard:batch"))
    try:
        batch_selectors.task_get_visible(task_id, principal_of(request))
        if action == "cancel":
            task = batch_services.task_cancel(task_id=task_id)
            messages.success(request, f"任务 {task.task_id} 已取消（已处理 {task.processed_files}/{task.total_files} 页）")
        elif action == "retry":
            task, count = batch_services.task_retry(task_id=task_id)
            if count:
                messages.success(request, f"任务 {task.task_id} 将重新识别 {count} 页（已成功的页面保留）")
            else:
                messages.info(request, f"任务 {task.task_id} 没有需要重试的页面")
        elif action == "delete":
            batch_services.task_delete(task_id=task_id)
            messages.success(request, f"任务 {task_id} 及其识别结果和导出文件已删除")
            if f"/batch/tasks/{task_id}" in back:
                back = reverse("dashboard:batch")
        elif action == "export":
            from exports import services as export_services

            fmt = request.POST.get("format", "json")
            if fmt not in EXPORT_FORMATS:
                raise errors.InvalidParameter(f"不支持的导出格式 {fmt}")
            export = export_services.export_create(task=_task_or_404(request, task_id), export_format=fmt)
            url = reverse("dashboard:download", args=[task_id]) + f"?format={fmt}"
            messages.success(request, f"已导出 {export.total_pages} 页（{fmt.upper()}，{export.file_size} 字节），可点击“下载”获取")
            request.session["last_export"] = {"task_id": task_id, "url": url}
        else:
            raise Http404("未知操作")
    except errors.ApiError as error:
        messages.error(request, f"操作失败：{error.message}")
    return redirect(back)


@login_required
@require_GET
def download(request, task_id: str):
    """The API's download (exports.downloads) behind the login; a failure goes back to the task page."""
    from exports.downloads import export_download

    try:
        return export_download(task=_task_or_404(request, task_id), export_format=request.GET.get("format", "json"))
    except errors.ApiError as error:
        messages.error(request, f"下载失败：{error.message}")
        return redirect("dashboard:task", task_id=task_id)


# --- One task --------------------------------------------------------------------------------------------

def _task_or_404(request, task_id: str) -> BatchTask:
    """The task, if this user may see it: staff see every task, others their own (core/access.py)."""
    task = get_object_or_404(BatchTask.objects.select_related("book"), task_id=task_id)
    if not principal_of(request).owns(task):
        raise PermissionDenied("该任务属于其他用户")
    return task


def _pages_slice(task: BatchTask, number):
    results = (OcrResult.objects.filter(task=task).order_by("sequence")
               .only("id", "page_id", "sequence", "file_name", "relative_path", "volume", "page_number", "status",
                     "confidence", "processing_time", "error_message", "task_id"))
    return Paginator(results, PAGES_PER_PAGE).get_page(number)


@login_required
@require_GET
def task_detail(request, task_id: str):
    task = _task_or_404(request, task_id)
    pages = _pages_slice(task, request.GET.get("p"))
    return render(request, "dashboard/task.html", {
        "task": task,
        "state": task_state(task),
        "pages": pages,
        "export_formats": EXPORT_FORMATS,
        # The downloads beside JSON and CSV, which the task's action buttons offer.
        "more_downloads": [(fmt, label) for fmt, label in ExportFormat.choices if fmt not in {"json", "csv"}],
        "unfinished": list(UNFINISHED_STATUSES),
        "finished": list(FINISHED_STATUSES),
        "low_confidence": LOW_CONFIDENCE,
        "page_status_labels": dict(PageStatus.choices),
        "status_label": STATUS_LABELS.get(task.status, task.status),
        "option_labels": {"lang": LANG_LABELS.get(task.lang, task.lang),
                          "layout": LAYOUT_LABELS.get(task.text_layout, task.text_layout),
                          "format": FORMAT_LABELS.get(task.output_format, task.output_format)},
    })


@login_required
@require_GET
def task_state_json(request, task_id: str):
    """The task's counts and timing, and the status of the pages listed on task page ?p=."""
    task = _task_or_404(request, task_id)
    pages = _pages_slice(task, request.GET.get("p"))
    labels = dict(PageStatus.choices)
    return JsonResponse({
        **task_state(task),
        "pages": [{"page_id": r.page_id, "status": r.status, "status_label": labels.get(r.status, r.status),
                   "confidence": None if r.confidence is None else float(r.confidence),
                   "processing_time": None if r.processing_time is None else str(r.processing_time),
                   "error": r.error_message or None}
                  for r in pages],
    }, json_dumps_params={"ensure_ascii": False})


# --- One page --------------------------------------------------------------------------------------------

def _result_or_404(request, task_id: str, page_id: str) -> OcrResult:
    result = get_object_or_404(OcrResult.objects.select_related("task"), task__task_id=task_id, page_id=page_id)
    if not principal_of(request).owns(result.task):
        raise PermissionDenied("该任务属于其他用户")
    return result


def _file_pages(result: OcrResult) -> list[dict]:
    """The file's pages as stored (a PDF or TIFF has several): each page's lines in reading order, boxes in
    its own pixels, and its size when stored."""
    data = result.json_data or {}
    if isinstance(data, list):
        data = {"details": data}
    stored = data.get("pages") or [data]
    pages = [{"lines": [], "width": (page or {}).get("width"), "height": (page or {}).get("height")}
             for page in stored]
    for line in search_text.result_lines(data, result.raw_text):
        try:
            confidence = float(line.confidence or 0)
            box = [[float(x), float(y)] for x, y in line.box or []]
        except (TypeError, ValueError):
            continue
        pages[line.page - 1]["lines"].append({"line": line, "text": line.text, "confidence": confidence, "box": box,
                                              "low": confidence < LOW_CONFIDENCE, "index": line.index})
    return pages


def _mark_hits(lines: list[dict], q: str) -> int:
    """Marks the lines containing the search query `q` (as search compares text): `hit`, and the text cut
    into before / match / after for the template. Returns how many lines have it."""
    query = search_text.normalise(q)
    if not query:
        return 0
    hits = {hit.line.index: hit for hit in search_text.line_hits([line["line"] for line in lines], query)}
    for line in lines:
        hit = hits.get(line["index"])
        line["hit"] = hit is not None
        if hit is not None:
            line["before"], line["match"], line["after"] = (
                line["text"][:hit.start], line["text"][hit.start:hit.end], line["text"][hit.end:])
    return len(hits)


def _int_param(request, name: str, default: int) -> int:
    try:
        return int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default


@login_required
@require_GET
def page_view(request, task_id: str, page_id: str):
    """One page: its image with the boxes, its text and lines. ?fp= picks a page of a PDF or TIFF (a page
    switcher lists them); ?q= highlights the lines containing a search query, ?line= (the search result's
    line index) is the one scrolled to."""
    result = _result_or_404(request, task_id, page_id)
    task = result.task
    siblings = OcrResult.objects.filter(task=task).order_by("sequence")
    previous = siblings.filter(sequence__lt=result.sequence).order_by("-sequence").only("page_id").first()
    following = siblings.filter(sequence__gt=result.sequence).only("page_id").first()
    file_pages = _file_pages(result)
    number = min(max(_int_param(request, "fp", 1), 1), len(file_pages))
    shown = file_pages[number - 1]
    lines = shown["lines"]
    q = request.GET.get("q", "").strip()[:SEARCH_MAX_QUERY]
    hit_count = _mark_hits(lines, q)
    focus = _int_param(request, "line", -1)
    overlay = {"details": [{"text": line["text"], "confidence": line["confidence"], "box": line["box"],
                            "hit": line.get("hit", False), "focus": line["index"] == focus} for line in lines],
               "width": shown["width"], "height": shown["height"]}
    position = siblings.filter(sequence__lt=result.sequence).count() + 1
    return render(request, "dashboard/page.html", {
        "task": task,
        "result": result,
        "lines": lines,
        "overlay": overlay,
        "previous": previous,
        "next": following,
        "position": position,
        "file_page": number,
        "file_pages": range(1, len(file_pages) + 1),
        "q": q,
        "keep_query": urlencode({"q": q}) if q else "",
        "hit_count": hit_count,
        "focus": focus,
        "low_confidence": LOW_CONFIDENCE,
        "low_count": sum(1 for line in lines if line["low"]),
        "page_status_label": dict(PageStatus.choices).get(result.status, result.status),
        "task_page": (position - 1) // PAGES_PER_PAGE + 1,
    })


@login_required
@require_GET
def page_image(request, task_id: str, page_id: str):
    """The scanned file of one page of this task, and nothing else: the path is the task's directory joined
    with the page's stored relative path, resolved and checked to lie inside that directory and the scan
    roots. ?page= picks a page of a PDF or TIFF. What a browser cannot show (TIFF, BMP, PDF, any page past
    the first) is sent as PNG of that page alone, in the same pixels the boxes were measured in."""
    result = _result_or_404(request, task_id, page_id)
    base = Path(result.task.source_directory).resolve()
    try:
        path = (base / result.relative_path).resolve(strict=True)
    except (OSError, RuntimeError):
        raise Http404("文件不存在") from None
    if not is_within(path, base) or not inside_scan_roots(path) or not path.is_file():
        raise Http404("文件不存在")
    data = path.read_bytes()
    number = _int_param(request, "page", 1)
    kind = sniff_format(data[:2048])
    headers = {"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"}
    if kind in previews.BROWSER_FORMATS and number == 1:
        return HttpResponse(data, content_type=previews.BROWSER_FORMATS[kind], headers=headers)
    try:
        png = previews.png_bytes(previews.file_page(data, number))
    except (errors.ApiError, IndexError):
        raise Http404("无法显示此文件或此页") from None
    return HttpResponse(png, content_type="image/png", headers=headers)
