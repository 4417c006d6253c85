"""Client-facing errors shared by every app: a stable code, an HTTP status and a human message (Chinese by
default).

Every API view raises ApiError (or lets DRF raise its own exceptions); api_exception_handler turns both
into `{"success": false, "error": CODE, "message": ..., **extra}`, so no bad input ends as a 500.
"""

import errno
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


class InvalidParameter(ApiError):
    status_code = 400
    code = "INVALID_PARAMETER"
    default_message = "参数无效"


class Forbidden(ApiError):
    status_code = 403
    code = "FORBIDDEN"
    default_message = "无权执行此操作"


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    default_message = "服务暂时不可用，请稍后重试"


class Busy(ServiceUnavailable):
    code = "BUSY"
    default_message = "识别请求过多，请稍后重试"


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"
    default_message = "数据库不可用，请稍后重试"


class StorageFull(ApiError):
    status_code = 507
    code = "STORAGE_FULL"
    default_message = "服务器磁盘空间不足，无法写入文件"


class RequestTooLarge(ApiError):
    status_code = 413
    code = "REQUEST_TOO_LARGE"
    default_message = "请求体超过上限"


class TooManyFields(ApiError):
    status_code = 400
    code = "TOO_MANY_FIELDS"
    default_message = "表单字段或文件数量超过上限"


def error_for_exception(exc) -> ApiError | None:
    """The coded error for an exception DRF does not know: a failing database or disk, or a body Django
    refused while reading it. None for anything else (a real defect: a 500, logged)."""
    from django.core.exceptions import (RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent,
                                        TooManyFilesSent)
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        logger.error("disk full: %s", exc)
        return StorageFull()
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge("请求体超过上限（DATA_UPLOAD_MAX_MEMORY_SIZE）")
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return TooManyFields(f"表单字段或文件数量超过上限：{exc}")
    if isinstance(exc, SuspiciousOperation):
        return ApiError(f"请求无效：{exc}")
    return None


DRF_CODES = {
    exceptions.NotAuthenticated: "UNAUTHENTICATED",
    exceptions.AuthenticationFailed: "UNAUTHENTICATED",
    exceptions.PermissionDenied: "FORBIDDEN",
    exceptions.Throttled: "THROTTLED",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
}


def api_exception_handler(exc, context):
    coded = error_for_exception(exc)
    if coded is not None:
        response = Response(coded.as_dict(), status=coded.status_code)
        if "retry_after" in coded.extra:
            response["Retry-After"] = str(coded.extra["retry_after"])
        return response
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
    elif isinstance(exc, exceptions.ParseError):
        response.data = {"success": False, "error": "INVALID_REQUEST_BODY", "message": f"请求体无法解析：{exc.detail}"}
    elif isinstance(exc, exceptions.Throttled):
        response.data = {"success": False, "error": "THROTTLED", "retry_after": exc.wait and int(exc.wait + 0.999),
                         "message": f"请求过于频繁，请 {int((exc.wait or 1) + 0.999)} 秒后重试"}
    else:
        code = next((code for kind, code in DRF_CODES.items() if isinstance(exc, kind)),
                    str(getattr(exc, "default_code", "ERROR")).upper())
        response.data = {"success": False, "error": code, "message": str(getattr(exc, "detail", exc))}
    return response


def error_response_body(status: int) -> dict:
    """The JSON body of an error Django answers itself, outside any view (a bad Host header, an unknown
    URL, an uncaught exception)."""
    codes = {400: ("BAD_REQUEST", "请求无效"), 403: ("FORBIDDEN", "无权执行此操作"),
             404: ("NOT_FOUND", "资源不存在"), 500: ("INTERNAL_ERROR", "服务器内部错误，已记录日志")}
    code, message = codes.get(status, ("ERROR", "请求失败"))
    return {"success": False, "error": code, "message": message}


class LengthRequired(ApiError):
    """A chunked body the server in front did not de-chunk (no wsgi.input_terminated): it cannot be read
    safely (ocrsite/wsgi.py)."""

    status_code = 411
    code = "LENGTH_REQUIRED"
    default_message = "请求体没有 Content-Length，且此服务器无法读取分块传输的请求体"
