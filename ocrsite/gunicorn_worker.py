"""The gthread worker of ocrsite/gunicorn.conf.py, whose own error answers are the API's JSON.

gunicorn answers by itself, before Django sees anything, a request it cannot parse (an unencoded 廖氏族谱 in
the URL, a malformed header: 400; a request line or headers over the limits: 414, 431) and an exception that
escaped the application (500). Its answer is an HTML page; clients of the API expect
`{"success": false, "error": CODE, "message": ...}` (core/errors.py) on every error.
"""

import json

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# The codes and messages of core/errors.py where they exist (BAD_REQUEST, FORBIDDEN, INTERNAL_ERROR). Not
# imported from there: these answers must not depend on Django (the 500 may be Django failing).
ERRORS = {
    400: ("BAD_REQUEST", "请求无法解析：请求行或请求头不符合 HTTP/1.1（URL 中的中文等非 ASCII 字符须先做 URL 编码，"
                         "例如 curl -G --data-urlencode 'book_id=廖氏族谱'）"),
    403: ("FORBIDDEN", "无权执行此操作"),
    414: ("URI_TOO_LONG", "请求行过长：URL 超过服务器的上限"),
    417: ("EXPECTATION_FAILED", "不支持请求头 Expect 的值"),
    431: ("HEADERS_TOO_LARGE", "请求头过多或过大"),
    500: ("INTERNAL_ERROR", "服务器内部错误，已记录日志"),
    501: ("NOT_IMPLEMENTED", "不支持请求的传输编码（Transfer-Encoding）"),
}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error with the API's JSON body: same status line, Connection: close."""
    code, message = ERRORS.get(status_int, ("ERROR", "请求失败"))
    error = {"success": False, "error": code, "message": message}
    if mesg:
        error["detail"] = mesg  # gunicorn's own English words, as it logs them
    body = json.dumps(error, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorThreadWorker(ThreadWorker):
    def init_process(self):
        # Worker.handle_error picks the status, logs the error and the access line, then writes the answer
        # with util.write_error: replacing only that writer (in this worker process) keeps gunicorn's own
        # choices for every kind of error, instead of copying its long handle_error.
        util.write_error = write_json_error
        super().init_process()
