"""Errors of recognition: what is wrong with an uploaded file or the engine (rendered by
core.errors.api_exception_handler)."""

from core.errors import ApiError, Busy, InvalidParameter, RequestTooLarge  # noqa: F401  (recognition's callers raise them)


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


class TooManyPixels(ApiError):
    """The pages of a request, pixels summed over all its files (MAX_REQUEST_PIXELS), known from the headers
    and PDF page boxes before any engine work."""

    status_code = 413
    code = "TOO_MANY_PIXELS"
    default_message = "请求的总像素（页数×每页像素）超过上限"


class OcrTimeout(ApiError):
    """Recognition stopped at its time limit, its partial result thrown away. 413, not a 5xx: the request
    asks for more engine time than the server gives one request, so the same request would fail again; a
    client (or proxy) must not retry it as a 503 or 504 invites, but send fewer pages or files."""

    status_code = 413
    code = "OCR_TIMEOUT"
    default_message = "识别超时"


class PageTimeout(OcrTimeout):
    """One page over OCR_PAGE_TIMEOUT: its file fails (in a batch, only that file)."""


class RequestTimeout(OcrTimeout):
    """The request over OCR_REQUEST_TIMEOUT: the whole request fails, a batch's finished files too."""


class TooManyFiles(ApiError):
    status_code = 400
    code = "TOO_MANY_FILES"
    default_message = "文件数量超过上限"


class EngineUnavailableError(ApiError):
    status_code = 503
    code = "ENGINE_UNAVAILABLE"
    default_message = "OCR 引擎不可用"
