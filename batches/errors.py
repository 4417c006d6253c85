"""Errors of the batch endpoints (stable codes, rendered by recognition.errors.api_exception_handler)."""

from recognition.errors import ApiError


class PathNotAllowed(ApiError):
    # The same code and message whether or not the path exists: nothing is revealed outside the roots.
    status_code = 400
    code = "PATH_NOT_ALLOWED"
    default_message = "目录不在允许扫描的范围内（SCAN_ROOTS）"


class DirectoryNotFound(ApiError):
    status_code = 400
    code = "DIRECTORY_NOT_FOUND"
    default_message = "目录不存在"


class NotADirectory(ApiError):
    status_code = 400
    code = "NOT_A_DIRECTORY"
    default_message = "路径不是目录"


class DuplicateTask(ApiError):
    status_code = 409
    code = "DUPLICATE_TASK"
    default_message = "相同目录和选项的任务尚未结束"


class TaskNotFound(ApiError):
    status_code = 404
    code = "TASK_NOT_FOUND"
    default_message = "任务不存在"


class InvalidTaskState(ApiError):
    status_code = 409
    code = "INVALID_TASK_STATE"
    default_message = "任务当前状态不允许此操作"


class BrokerUnavailable(ApiError):
    status_code = 503
    code = "BROKER_UNAVAILABLE"
    default_message = "任务队列不可用：任务已标记为失败，队列恢复后可重试"
