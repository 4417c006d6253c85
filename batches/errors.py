"""Errors of the batch endpoints (stable codes, rendered by core.errors.api_exception_handler)."""

from core.errors import ApiError


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


class InvalidFileName(ApiError):
    # Also the code of a page whose file name is not UTF-8: its row cannot store the name (MariaDB utf8mb4).
    status_code = 400
    code = "INVALID_FILE_NAME"
    default_message = "名称不是 UTF-8 编码，无法保存（常见于中文 Windows 打包的 zip 中的 GBK 名称）：请改为 UTF-8 名称后重新扫描"


class PathTooLong(ApiError):
    # Also the code of a page whose relative path is longer than the relative_path column.
    status_code = 400
    code = "PATH_TOO_LONG"
    default_message = "路径过长，无法保存：请缩短目录或文件名后重新扫描"
