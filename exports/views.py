"""The export endpoints (API.md, "Batch scanning"): write a task's export, download the newest one. Served
under API_PREFIX + "batch/" beside the batch endpoints."""

from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from batches.selectors import iso, task_get_visible
from batches.serializers import BatchErrorSerializer, ExportRequestSerializer, ExportResponseSerializer
from core.access import principal_of
from core.paths import export_relative

from . import services
from .downloads import MEDIA_TYPES, export_download
from .models import ExportFormat

TAGS = ["批量扫描"]


def download_url(task_id: str, export_format: str) -> str:
    return f"{settings.API_PREFIX}/batch/download/{task_id}?{urlencode({'format': export_format})}"


class ExportView(APIView):
    @extend_schema(summary="导出任务结果（JSON / CSV / 纯文本 / 可检索 PDF / hOCR / ALTO）", request=ExportRequestSerializer,
                   tags=TAGS,
                   responses={200: ExportResponseSerializer, 400: BatchErrorSerializer, 404: BatchErrorSerializer,
                              507: BatchErrorSerializer})
    def post(self, request):
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        export_format = services.parse_format(data["format"])
        task = task_get_visible(data["task_id"], principal_of(request))
        export = services.export_create(task=task, export_format=export_format,
                                        include_details=data["include_details"])
        return Response({"success": True, "export_id": export.export_id, "task_id": task.task_id,
                         "format": export.export_format, "file_path": export_relative(export.file_path),
                         "download_url": download_url(task.task_id, export.export_format),
                         "file_size": export.file_size, "total_pages": export.total_pages,
                         "expires_at": iso(export.expires_at),
                         "message": f"已导出 {export.total_pages} 页"})


class DownloadView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # `?format=csv` names the export's format here, not DRF's renderer (URL_FORMAT_OVERRIDE): errors
        # are JSON whatever it says.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(summary="下载最新导出文件（无则创建）", tags=TAGS,
                   parameters=[OpenApiParameter("format", str, enum=list(ExportFormat.values))],
                   responses={(200, "application/json"): OpenApiTypes.OBJECT,
                              **{(200, MEDIA_TYPES[fmt]): OpenApiTypes.BINARY for fmt in ExportFormat.values
                                 if fmt != "json"},
                              400: BatchErrorSerializer, 404: BatchErrorSerializer, 507: BatchErrorSerializer})
    def get(self, request, task_id):
        return export_download(task=task_get_visible(task_id, principal_of(request)),
                               export_format=request.query_params.get("format", "json"))
