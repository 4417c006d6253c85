"""Client-facing errors: a stable code, an HTTP status and a human message (Chinese by default).

Every API view raises ApiError (or lets DRF raise its own exceptions); api_exception_handler turns both
into `{"success": false, "error": CODE, "message": ..., **extra}`, so no bad input ends as a 500.
"""

import logging

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "BAD_REQUEST"
    default_message = "请求无效"

    def __init__(self, message: str | None = None, **extra):
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"success": False, "error": self.code, "message": self.message, **self.extra}


def _error(name: str, http_status: int, default_message: str) -> type[ApiError]:
    return type(name, (ApiError,), {"status_code": http_status, "code": name_to_code(name),
                                    "default_message": default_message})


def name_to_code(name: str) -> str:
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()


UnsupportedFormat = _error("UnsupportedFormat", 415, "不支持的文件格式：支持 JPEG、PNG、BMP、WebP、TIFF 和 PDF")
EmptyFile = _error("EmptyFile", 400, "文件为空")
CorruptImage = _error("CorruptImage", 400, "图片已损坏或无法解码")
FileTooLarge = _error("FileTooLarge", 413, "文件超过大小上限")
ImageTooLarge = _error("ImageTooLarge", 413, "图片像素超过上限")
TooManyFiles = _error("TooManyFiles", 400, "文件数量超过上限")
InvalidParameter = _error("InvalidParameter", 400, "参数无效")
NotFound = _error("NotFound", 404, "资源不存在")
Conflict = _error("Conflict", 409, "当前状态不允许此操作")
EngineUnavailableError = _error("EngineUnavailable", 503, "OCR 引擎不可用")


def api_exception_handler(exc, context):
    if isinstance(exc, ApiError):
        return Response(exc.as_dict(), status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = sorted(exc.detail) if isinstance(exc.detail, dict) else []
        message = "参数无效：" + "；".join(
            f"{field}: {' '.join(str(m) for m in messages)}" for field, messages in exc.detail.items()
        ) if isinstance(exc.detail, dict) else "参数无效"
        response.data = {"success": False, "error": "INVALID_PARAMETER", "message": message,
                         "fields": fields, "detail": exc.detail}
    elif isinstance(exc, exceptions.NotFound):
        response.data = {"success": False, "error": "NOT_FOUND", "message": "资源不存在"}
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        response.data = {"success": False, "error": "UNSUPPORTED_MEDIA_TYPE", "message": str(exc.detail)}
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"success": False, "error": "INVALID_REQUEST_BODY", "message": f"请求体无法解析：{exc.detail}"}
    elif isinstance(exc, exceptions.MethodNotAllowed):
        response.data = {"success": False, "error": "METHOD_NOT_ALLOWED", "message": str(exc.detail)}
    else:
        response.data = {"success": False, "error": str(getattr(exc, "default_code", "ERROR")).upper(),
                         "message": str(getattr(exc, "detail", exc))}
    return response
