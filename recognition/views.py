"""The single-recognition API: recognize, recognize-batch (shapes in shared API.md); health and status are
ocrsite/status_views.py's."""

import logging
from functools import partial

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from . import errors, stats
from .serializers import (
    BatchItemSerializer,
    ErrorSerializer,
    RecognitionResultSerializer,
    RecognizeBatchRequestSerializer,
    RecognizeRequestSerializer,
)
from .services import RecognitionOptions, recognize_file, recognize_files, request_slot
from . import document_output

logger = logging.getLogger(__name__)

ERROR_RESPONSES = {status: ErrorSerializer for status in (400, 413, 415, 503)}
RESULT_EXAMPLE = OpenApiExample(
    "识别结果",
    value={
        "success": True,
        "text": "李氏族谱第一卷\nHello PaddleOCR 2024",
        "details": [{"text": "李氏族谱第一卷", "confidence": 0.99, "box": [[31, 43], [316, 45], [316, 84], [31, 82]]},
                    {"text": "Hello PaddleOCR 2024", "confidence": 0.98,
                     "box": [[31, 103], [402, 103], [402, 140], [31, 140]]}],
        "processing_time": 0.21,
        "error": None,
    },
    response_only=True,
)


# Room for the form fields and multipart boundaries beside the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def refuse_oversized_body(request, files: int) -> None:
    """413 from the Content-Length alone, before the body is read: an upload that can only be too large is
    not spooled to disk first. A form of one file is bounded by MAX_UPLOAD_SIZE (FILE_TOO_LARGE), every form
    by MAX_REQUEST_SIZE (REQUEST_TOO_LARGE)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if files == 1 and length > settings.MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD:
        raise errors.FileTooLarge(
            f"请求体 {length} 字节，超过上限 {settings.MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD} 字节"
            f"（每个文件最多 {settings.MAX_UPLOAD_SIZE} 字节）",
            max_bytes=settings.MAX_UPLOAD_SIZE,
        )
    if length > settings.MAX_REQUEST_SIZE:
        raise errors.RequestTooLarge(
            f"请求体 {length} 字节，超过上限 {settings.MAX_REQUEST_SIZE} 字节（MAX_REQUEST_SIZE，一次请求的所有文件合计）",
            max_bytes=settings.MAX_REQUEST_SIZE,
        )


def read_upload(upload) -> bytes:
    """The upload's bytes, from the start (the request's pixel budget reads every file once before it is
    recognised)."""
    if upload.size > settings.MAX_UPLOAD_SIZE:
        raise errors.FileTooLarge(
            f"文件 {upload.name} 大小 {upload.size} 字节，超过上限 {settings.MAX_UPLOAD_SIZE} 字节",
            max_bytes=settings.MAX_UPLOAD_SIZE,
        )
    upload.seek(0)
    return upload.read()


def too_many_files(count: int | None = None) -> errors.TooManyFiles:
    received = f"，收到 {count} 个" if count is not None else ""
    return errors.TooManyFiles(f"一次最多 {settings.MAX_BATCH_FILES} 个文件{received}",
                               max_files=settings.MAX_BATCH_FILES)


class RecognizeView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="识别单张图片",
        description="上传一个文件（图片或 PDF/TIFF 多页文档），同步返回识别结果。",
        request={"multipart/form-data": RecognizeRequestSerializer},
        responses={(200, "application/json"): RecognitionResultSerializer, **document_output.DOCUMENT_RESPONSES,
                   **ERROR_RESPONSES},
        examples=[RESULT_EXAMPLE],
        tags=["识别"],
    )
    def post(self, request):
        stats.count_request()
        refuse_oversized_body(request, files=1)
        with request_slot():
            return self.recognize(request)

    def recognize(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise errors.InvalidParameter("缺少文件字段 file", field="file")
        options = RecognitionOptions.from_raw(request.data)
        response_format = document_output.parse_response_format(request.data)
        if response_format != "json":
            return document_output.document_response(partial(read_upload, upload), options, response_format,
                                                     upload.name)
        return Response(recognize_file(partial(read_upload, upload), options))


class RecognizeBatchView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="批量识别图片（同步）",
        description="重复 files 字段上传多个文件；按输入顺序返回结果数组，单个文件失败只影响它自己。",
        request={"multipart/form-data": RecognizeBatchRequestSerializer},
        responses={200: BatchItemSerializer(many=True), **ERROR_RESPONSES},
        tags=["识别"],
    )
    def post(self, request):
        stats.count_request()
        refuse_oversized_body(request, files=settings.MAX_BATCH_FILES)
        with request_slot():
            return self.recognize(request)

    def recognize(self, request):
        try:
            uploads = request.FILES.getlist("files")
        except TooManyFilesSent as error:
            # Django stops reading the form past DATA_UPLOAD_MAX_NUMBER_FILES (= MAX_BATCH_FILES).
            raise too_many_files() from error
        if not uploads:
            raise errors.InvalidParameter("缺少文件字段 files", field="files")
        if len(uploads) > settings.MAX_BATCH_FILES:
            raise too_many_files(len(uploads))
        options = RecognitionOptions.from_raw(request.data)
        outcomes = recognize_files([partial(read_upload, upload) for upload in uploads], options)
        results = []
        for upload, result in zip(uploads, outcomes):
            if isinstance(result, errors.ApiError):
                stats.count_error()
                result = {**result.as_dict(), "text": "", "details": None, "processing_time": 0.0}
            results.append({"file_name": upload.name, **result})
        return Response(results)
