"""How the OpenAPI schema (drf-spectacular) describes what core adds to every endpoint: the token scheme,
and the answers any API operation may give whatever its input."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

# Status → why any operation may answer it (core/access.py, core/throttling.py, core/errors.py).
ACCESS_ERRORS = {
    "401": "UNAUTHENTICATED：需要令牌（来自 API_TRUSTED_NETWORKS 之外且 API_TOKEN_REQUIRED），或令牌无效、已吊销、已过期",
    "403": "FORBIDDEN：只读令牌写入、其他用户的任务；CROSS_SITE_REQUEST：来自其他网站的浏览器请求",
    "429": "THROTTLED：超过 API_THROTTLE_TOKEN / API_THROTTLE_ADDRESS，Retry-After 给出等待秒数",
    "503": "DATABASE_UNAVAILABLE / SERVICE_UNAVAILABLE：数据库或依赖暂时不可用",
}
# ... and what any operation that takes a body may answer about the body itself (core/errors.py).
BODY_ERRORS = {
    "400": "INVALID_REQUEST_BODY / TOO_MANY_FIELDS：请求体无法解析、嵌套过深、字段过多",
    "413": "REQUEST_TOO_LARGE：请求体超过上限",
    "415": "UNSUPPORTED_MEDIA_TYPE：请求体类型不被此接口接受",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error", "message"],
    "properties": {"success": {"type": "boolean", "enum": [False]}, "error": {"type": "string"},
                   "message": {"type": "string"}},
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.access.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "API 令牌：Authorization: Bearer <令牌>（也接受 Token <令牌>；管理后台或 manage.py token "
                               "创建）。来自 API_TRUSTED_NETWORKS（默认本机）的请求、或 API_TOKEN_REQUIRED 关闭时可不带令牌。"}


def add_access_errors(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: every operation documents the access errors (and, with a body, the body
    errors) it does not list itself; an operation open to all, like /health, still has 429 and 503."""
    result.setdefault("components", {}).setdefault("schemas", {}).setdefault("AccessError", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/AccessError"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            open_to_all = operation.get("security") in ([{}], [])
            errors = {**ACCESS_ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
            responses = operation.setdefault("responses", {})
            for status, description in errors.items():
                if open_to_all and status in ("401", "403"):
                    continue
                responses.setdefault(status, {"description": description,
                                              "content": {"application/json": {"schema": reference}}})
    return result
