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


class UnsupportedFormat(ApiError):
    status_code = 415
    code = "UNSUPPORTED_FORMAT"
    default_message = "不支持的文件格式：支持 JPEG、PNG、BMP、WebP、TIFF 和 PDF"


class EmptyFile(ApiError):
    status_code = 400
    code = "EMPTY_FILE"
    default_message = "文件为空"


class CorruptImage(ApiError):
    status_code = 400
    code = "CORRUPT_IMAGE"
    default_message = "图片已损坏或无法解码"


class FileTooLarge(ApiError):
    status_code = 413
    code = "FILE_TOO_LARGE"
    default_message = "文件超过大小上限"


class EncryptedPdf(ApiError):
    status_code = 400
    code = "ENCRYPTED_PDF"
    default_message = "PDF 已加密（需要密码），请上传未加密的文件"


class ImageTooLarge(ApiError):
    status_code = 413
    code = "IMAGE_TOO_LARGE"
    default_message = "图片像素超过上限"


class TooManyPages(ApiError):
    status_code = 413
    code = "TOO_MANY_PAGES"
    default_message = "文件页数超过上限"


class TooManyFiles(ApiError):
    status_code = 400
    code = "TOO_MANY_FILES"
    default_message = "文件数量超过上限"


class InvalidParameter(ApiError):
    status_code = 400
    code = "INVALID_PARAMETER"
    default_message = "参数无效"


class EngineUnavailableError(ApiError):
    status_code = 503
    code = "ENGINE_UNAVAILABLE"
    default_message = "OCR 引擎不可用"


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
