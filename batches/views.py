"""The batch endpoints (API.md, "Batch scanning"). Views parse input and shape output; the work is in
services (writes) and selectors (reads)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from core.access import from_trusted_network, principal_of
from core.statuses import TaskStatus

from . import errors, search, selectors, services
from .serializers import (BatchErrorSerializer, ScanRequestSerializer, SearchQuerySerializer, SearchResponseSerializer,
                          TaskListQuerySerializer, TaskListSerializer, TaskStatusSerializer, TaskSummarySerializer)

TAGS = ["批量扫描"]


def _task_or_404(request, task_id: str):
    return selectors.task_get_visible(task_id, principal_of(request))


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
        try:
            task = services.task_create(book_id=data["book_id"], directory=data["directory"], options=options,
                                        priority=data.get("priority"), task_name=data.get("task_name", ""),
                                        auto_start=data["auto_start"], owner=principal_of(request).user)
        except errors.PathNotAllowed as error:
            if request.user.is_authenticated or from_trusted_network(request):
                # Someone known or on this machine may learn where scans are allowed; others may not.
                roots = [str(root) for root in settings.SCAN_ROOTS]
                raise errors.PathNotAllowed(f"{error.message}：允许的目录为 {'、'.join(roots)}",
                                            allowed_roots=roots) from None
            raise
        if task.status == TaskStatus.SCANNING:  # a large tree: its files are being listed (poll the status)
            message = "任务已创建，正在列出文件" + ("，列出后开始处理" if data["auto_start"] else "，列出后等待启动")
        else:
            message = (f"任务已创建，共 {task.total_files} 个文件" +
                       ("，已开始处理" if data["auto_start"] else "，等待启动"))
        return Response(_summary(task, message), status=status.HTTP_201_CREATED)


class StartView(APIView):
    @extend_schema(summary="启动任务（运行中的任务：重新投递未完成的页面）", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task = services.task_start(task_id=_task_or_404(request, task_id).task_id)
        return Response(_summary(task, "任务已启动"))


class StatusView(APIView):
    @extend_schema(summary="任务状态与进度", tags=TAGS, responses={200: TaskStatusSerializer, 404: BatchErrorSerializer})
    def get(self, request, task_id):
        return Response(selectors.task_status_payload(_task_or_404(request, task_id)))


class CancelView(APIView):
    @extend_schema(summary="取消任务（排队或处理中）", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task = services.task_cancel(task_id=_task_or_404(request, task_id).task_id)
        return Response(_summary(task, "任务已取消"))


class RetryView(APIView):
    @extend_schema(summary="重试失败或未处理的页面（运行中的任务：重新投递未完成的页面）", request=None, tags=TAGS,
                   responses={200: TaskSummarySerializer, 404: BatchErrorSerializer, 409: BatchErrorSerializer})
    def post(self, request, task_id):
        task, count = services.task_retry(task_id=_task_or_404(request, task_id).task_id)
        # A running task is not refused: its unfinished pages are sent again (count = pages sent).
        message = f"重新处理 {count} 个页面" if count else "没有需要重试的页面"
        return Response(_summary(task, message, retried_files=count))


class DeleteView(APIView):
    @extend_schema(summary="删除任务、结果和导出文件", request=None, tags=TAGS,
                   responses={200: OpenApiTypes.OBJECT, 404: BatchErrorSerializer})
    def post(self, request, task_id):
        services.task_delete(task_id=_task_or_404(request, task_id).task_id)
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
    @extend_schema(summary="任务列表（最新在前，分页）", tags=TAGS, parameters=[TaskListQuerySerializer],
                   responses={200: TaskListSerializer, 400: BatchErrorSerializer, 404: BatchErrorSerializer})
    def get(self, request):
        query = TaskListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tasks = selectors.task_list(status=query.validated_data.get("status"),
                                    book_id=query.validated_data.get("book_id"),
                                    owner=principal_of(request))
        paginator = TaskPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response([selectors.task_payload(task) for task in page])


class SearchView(APIView):
    @extend_schema(summary="全文检索：含检索词的页面（跨书，按书序），附命中行的文字框和摘要", tags=TAGS,
                   parameters=[SearchQuerySerializer],
                   responses={200: SearchResponseSerializer, 400: BatchErrorSerializer, 403: BatchErrorSerializer,
                              404: BatchErrorSerializer})
    def get(self, request):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = search.SearchFilters(book_id=data.get("book_id", ""), volume=data.get("volume", ""),
                                       task_id=data.get("task_id", ""))
        page = data["page"]
        found = search.search_pages(q=data["q"], principal=principal_of(request), filters=filters, page=page,
                                    page_size=data["page_size"])
        if page > 1 and not found.results:
            raise exceptions.NotFound()
        url = request.build_absolute_uri()
        previous = None
        if page > 1:
            previous = remove_query_param(url, "page") if page == 2 else replace_query_param(url, "page", page - 1)
        return Response({"success": True, "query": found.query, "results": found.results, "count": found.count,
                         "count_exact": found.count_exact,
                         "next": replace_query_param(url, "page", page + 1) if found.has_next else None,
                         "previous": previous})
