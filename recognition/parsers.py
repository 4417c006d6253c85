"""Request body parsers of the API: JSON within bounds.

A body over MAX_JSON_BODY_SIZE bytes is a 413 REQUEST_TOO_LARGE, from its Content-Length before anything is
read, and never read past the limit (DRF reads the body of its own JSONParser whole, as request.body, before
the parser runs: this one reads the stream itself); a document nested deeper than MAX_JSON_DEPTH or holding more than
MAX_JSON_ITEMS object keys and array elements in all is a 400 INVALID_REQUEST_BODY, so that no view or
serializer spends time on it (deeper than Python's JSON decoder can go was an HTML 500 once).

Top-level keys may be spelled in camelCase, as the seed's Java beans are written by Jackson (`bookId`): they
reach the views in snake_case (core/naming.py).
"""

from django.conf import settings
from rest_framework import renderers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, get_encoding
from rest_framework.settings import api_settings
from rest_framework.utils import json

from core.naming import snake_case_keys


def too_large(length: int):
    # Imported here: core.errors imports rest_framework.views, whose settings import this module.
    from core.errors import RequestTooLarge

    return RequestTooLarge(f"JSON 请求体 {length} 字节，超过上限 {settings.MAX_JSON_BODY_SIZE} 字节",
                           max_bytes=settings.MAX_JSON_BODY_SIZE)


def check_shape(document) -> None:
    """ParseError for a document deeper than MAX_JSON_DEPTH or larger than MAX_JSON_ITEMS; walked without
    recursion."""
    items, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > settings.MAX_JSON_DEPTH:
            raise ParseError(f"JSON 嵌套超过 {settings.MAX_JSON_DEPTH} 层")
        items += len(children)
        if items > settings.MAX_JSON_ITEMS:
            raise ParseError(f"JSON 的键和数组元素合计超过 {settings.MAX_JSON_ITEMS} 个")
        pending.extend((child, depth + 1) for child in children)


class JsonParser(BaseParser):
    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > settings.MAX_JSON_BODY_SIZE:
            raise too_large(length)
        body = stream.read(settings.MAX_JSON_BODY_SIZE + 1)
        if len(body) > settings.MAX_JSON_BODY_SIZE:
            raise too_large(len(body))
        try:
            document = json.loads(body.decode(get_encoding(parser_context)),
                                  parse_constant=json.strict_constant if api_settings.STRICT_JSON else None)
        except RecursionError:
            raise ParseError(f"JSON 嵌套超过 {settings.MAX_JSON_DEPTH} 层") from None
        except ValueError as error:
            raise ParseError(f"JSON 格式错误：{error}") from None
        check_shape(document)
        return snake_case_keys(document)
