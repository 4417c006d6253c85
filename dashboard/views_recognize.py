"""`/`: try one image. The page posts the file to `recognize/` from JS and draws the boxes itself; without
JS the same form posts to `/` and the text and line list come back server-rendered. A file the browser
cannot show (PDF, TIFF, BMP), or one of several pages, comes back with a preview of each page (the upload is
not kept), so that the page switcher shows every page with its boxes. With `response_format` pdf, hocr or
alto (the form's 结果: 下载…), both answer with the recognised file as that document instead, an attachment
written by recognition/document_output.py as POST /api/ocr/recognize writes it."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from recognition import errors
from recognition.document_output import document_attachment, parse_response_format
from recognition.engines import EngineUnavailable, available_langs
from recognition.pipeline.decode import iter_pages, sniff_format
from recognition.services import RecognitionOptions, recognize_bytes, request_slot
from recognition.views import read_upload, refuse_oversized_body

from .labels import LOW_CONFIDENCE, format_choices, lang_choices, layout_choices, response_choices
from .previews import BROWSER_FORMATS, preview_data_url


def _langs() -> list[str]:
    try:
        return available_langs()
    except EngineUnavailable:
        return [settings.OCR_LANG]


def _recognize(request) -> tuple[dict, bytes, FileResponse | None]:
    """The recognition service's result for the uploaded file, the file, and, when `response_format` asks for
    a document (pdf, hocr, alto), that document as an attachment named after the upload (written inside the
    request's slot, as the API writes it); ApiError for bad input."""
    refuse_oversized_body(request, files=1)
    with request_slot():
        upload = request.FILES.get("file")
        if upload is None:
            raise errors.InvalidParameter("请选择要识别的图片文件", field="file")
        options = RecognitionOptions.from_raw(
            {name: request.POST.get(name) for name in ("lang", "text_layout", "output_format")}
            # An unticked checkbox is not sent at all: absent means false here, not the server's default.
            | {"use_angle_cls": "true" if request.POST.get("use_angle_cls") else "false", "return_details": "true"}
        )
        response_format = parse_response_format(request.POST)
        data = read_upload(upload)
        result = recognize_bytes(data, options)
        if response_format == "json":
            return result, data, None
        return result, data, document_attachment(result, data, response_format, upload.name)


def _previews(result: dict, data: bytes) -> list[str] | None:
    """A preview of every page when the browser cannot show the file itself: several pages, or a format it
    does not display (decoded again as the engine decoded it, so that the boxes fit)."""
    if not result.get("pages") and sniff_format(data[:2048]) in BROWSER_FORMATS:
        return None
    return [preview_data_url(page) for page in iter_pages(data)]


def _lines(result: dict) -> list[dict]:
    return [
        {**detail, "low": detail["low_confidence"]}
        for detail in result.get("details") or []
    ]


@login_required
@require_http_methods(["GET", "POST"])
def index(request):
    context = {
        "langs": lang_choices(_langs()),
        "layouts": layout_choices(),
        "formats": format_choices(),
        "responses": response_choices(),
        "selected": {
            "lang": request.POST.get("lang") or settings.OCR_LANG,
            "text_layout": request.POST.get("text_layout") or settings.OCR_TEXT_LAYOUT,
            "output_format": request.POST.get("output_format") or "line_by_line",
            "use_angle_cls": request.method == "GET" or request.POST.get("use_angle_cls") == "true",
            "response_format": request.POST.get("response_format") or "json",
        },
        "low_confidence": LOW_CONFIDENCE,
        "max_upload_mb": settings.MAX_UPLOAD_SIZE // (1024 * 1024),
    }
    status = 200
    if request.method == "POST":
        try:
            result, _data, document = _recognize(request)
            if document is not None:
                return document
            context["result"] = result
            context["lines"] = _lines(result)
            context["file_name"] = request.FILES["file"].name
        except errors.ApiError as error:
            context["error"] = error.message
            status = error.status_code
    return render(request, "dashboard/index.html", context, status=status)


@login_required
@require_POST
def recognize(request):
    """JSON for the page's script: the API's result shape (plus width and height of the image, and
    `previews`: a JPEG data URL per page, when the browser cannot show the file itself); the document as an
    attachment instead when `response_format` asks for one."""
    try:
        result, data, document = _recognize(request)
        if document is not None:
            return document
        previews = _previews(result, data)
    except errors.ApiError as error:
        return JsonResponse(error.as_dict(), status=error.status_code)
    if previews is not None:
        result["previews"] = previews
    return JsonResponse(result, json_dumps_params={"ensure_ascii": False})
