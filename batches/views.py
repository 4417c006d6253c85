"""The batch endpoints (API.md, "Batch scanning"). Views parse input and shape output; the work is in
services (writes) and selectors (reads)."""

from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from exports.downloads import export_download
from exports import services as export_services

from . import errors, selectors, services
from .serializers import (BatchErrorSerializer, ExportRequestSerializer, ExportResponseSerializer, ScanRequestSerializer,
                          TaskListQuerySerializer, TaskListSerializer, TaskStatusSerializer, TaskSummarySerializer)

TAGS = ["批量扫描"]


def _task_or_404(task_id: str):
    task = selectors.task_get(task_id)
    if task is None:
        raise errors.TaskNotFound(f"任务不存在：{task_id}")
    return task


def _summary(task, message: str, **extra) -> dict:
    return {"success": True, "task_id": task.task_id, "book_id": task.book_id, "status": task.status,
            "total_files": task.total_files, "progress": float(task.progress), "message": message, **extra}


class ScanView(APIView):
    @extend_schema(summary="创建目录扫描任务", request=ScanRequestSerializer, tags=TAGS,
                   responses={201: TaskSummarySerializer, 400: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request):
        serializer = ScanRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        options = services.ScanOptions.from_raw(data)
        task = services.task_create(book_id=data["book_id"], directory=data["directory"], options=options,
                                    priority=data.get("priority"), task_name=data.get("task_name", ""),
                                    auto_start=data["auto_start"])
        message = (f"任务已创建，共 {task.total_files} 个文件" +
                   ("，已开始处理" if data["auto_start"] else "，等待启动"))
        return Response(_summary(task, message), status=status.HTTP_201_CREATED)


class StartView(APIView):
    @extend_schema(summary="启动任务（幂等）", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task = services.task_start(task_id=task_id)
        return Response(_summary(task, "任务已启动"))


class StatusView(APIView):
    @extend_schema(summary="任务状态与进度", tags=TAGS, responses={200: TaskStatusSerializer, 404: BatchErrorSerializer})
    def get(self, request, task_id):
        return Response(selectors.task_status_payload(_task_or_404(task_id)))


class CancelView(APIView):
    @extend_schema(summary="取消任务（排队或处理中）", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task = services.task_cancel(task_id=task_id)
        return Response(_summary(task, "任务已取消"))


class RetryView(APIView):
    @extend_schema(summary="重试失败或未处理的页面", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task, count = services.task_retry(task_id=task_id)
        message = f"重新处理 {count} 个页面" if count else "没有需要重试的页面"
        return Response(_summary(task, message, retried_files=count))


class DeleteView(APIView):
    @extend_schema(summary="删除任务、结果和导出文件", request=None, tags=TAGS,
                   responses={200: OpenApiTypes.OBJECT, 404: BatchErrorSerializer})
    def post(self, request, task_id):
        services.task_delete(task_id=task_id)
        return Response({"success": True, "task_id": task_id, "message": "任务已删除"})

    delete = post


class TaskPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response(self, data):
        return Response({"success": True, "tasks": data, "count": self.page.paginator.count,
                         "next": self.get_next_link(), "previous": self.get_previous_link()})


class TaskListView(APIView):
    @extend_schema(summary="任务列表（最新在前，分页）", tags=TAGS, responses={200: TaskListSerializer},
                   parameters=[OpenApiParameter("status", str, enum=["pending", "queued", "processing", "completed",
                                                                     "failed", "cancelled"]),
                               OpenApiParameter("book_id", str), OpenApiParameter("page", int),
                               OpenApiParameter("page_size", int)])
    def get(self, request):
        query = TaskListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tasks = selectors.task_list(status=query.validated_data.get("status"),
                                    book_id=query.validated_data.get("book_id"))
        paginator = TaskPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response([selectors.task_payload(task) for task in page])


def download_url(task_id: str, export_format: str) -> str:
    return f"{settings.API_PREFIX}/batch/download/{task_id}?{urlencode({'format': export_format})}"


class ExportView(APIView):
    @extend_schema(summary="导出任务结果（JSON / CSV / 纯文本）", request=ExportRequestSerializer, tags=TAGS,
                   responses={200: ExportResponseSerializer, 400: BatchErrorSerializer, 404: BatchErrorSerializer})
    def post(self, request):
        serializer = ExportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        export_format = export_services.parse_format(data["format"])
        task = _task_or_404(data["task_id"])
        export = export_services.export_create(task=task, export_format=export_format,
                                               include_details=data["include_details"])
        return Response({"success": True, "export_id": export.export_id, "task_id": task.task_id,
                         "format": export.export_format, "file_path": export.file_path,
                         "download_url": download_url(task.task_id, export.export_format),
                         "file_size": export.file_size, "total_pages": export.total_pages,
                         "expires_at": export.expires_at.isoformat() if export.expires_at else None,
                         "message": f"已导出 {export.total_pages} 页"})


class DownloadView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # `?format=csv` names the export's format here, not DRF's renderer (URL_FORMAT_OVERRIDE): errors
        # are JSON whatever it says.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(summary="下载最新导出文件（无则创建）", tags=TAGS,
                   parameters=[OpenApiParameter("format", str, enum=["json", "csv", "txt"])],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: BatchErrorSerializer})
    def get(self, request, task_id):
        return export_download(task=_task_or_404(task_id), export_format=request.query_params.get("format", "json"))
