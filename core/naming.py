"""camelCase beside the API's snake_case, for the seed's Java clients (API.md, "Java clients").

The seed's Spring example posts plain Java beans, which Jackson writes in camelCase (`bookId`), and reads
answers into camelCase fields (`taskId`, `processingTime`). The API's own names stay snake_case:

- requests may spell any top-level field of a JSON body in camelCase (recognition/parsers.py calls
  snake_case_keys); both spellings with different values are a 400 INVALID_PARAMETER naming the field;
- answers also carry the camelCase twins of RESPONSE_TWINS, wherever those keys occur (core/renderers.py
  calls with_camel_case_twins; the documented response shapes list them through CamelCaseTwins).
"""

import copy
import re

# The snake_case keys that the seed's Java classes (OcrResponse, TaskResponse, TaskStatusResponse) read
# under a camelCase name; their one-word fields (success, text, status, progress, error) need no twin.
RESPONSE_TWINS = {key: re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)
                  for key in ("task_id", "processing_time", "processed_files", "success_files")}

CAMEL_CASE = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")


def snake_case(name: str) -> str:
    """`bookId` -> `book_id`, `useAngleCls` -> `use_angle_cls`; any other name as it is."""
    if not CAMEL_CASE.fullmatch(name):
        return name
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), name)


def snake_case_keys(body):
    """A JSON body with its top-level keys in snake_case; anything but an object as it is."""
    if not isinstance(body, dict):
        return body
    result, spelling = {}, {}
    for key, value in body.items():
        name = snake_case(key)
        if name in result and result[name] != value:
            # Imported here: core.errors imports rest_framework.views, whose settings import the parser
            # that imports this module.
            from core.errors import InvalidParameter

            raise InvalidParameter(f"参数 {spelling[name]} 与 {key} 是同一字段 {name} 的两种写法，取值却不同",
                                   field=name)
        result[name], spelling[name] = value, key
    return result


def with_camel_case_twins(data):
    """`data` with a camelCase twin after each key of RESPONSE_TWINS, in objects at any depth; a twin the
    object already has is left alone."""
    if isinstance(data, list):
        return [with_camel_case_twins(item) for item in data]
    if not isinstance(data, dict):
        return data
    result = {}
    for key, value in data.items():
        result[key] = with_camel_case_twins(value)
        twin = RESPONSE_TWINS.get(key)
        if twin and twin not in data:
            result[twin] = result[key]
    return result


# Serializer mixin of the documented response shapes: each field of RESPONSE_TWINS is listed a second time
# under its camelCase name, as core/renderers.py writes it. (A comment, not a docstring: drf-spectacular
# would show a docstring as the description of every shape that has none of its own.)
class CamelCaseTwins:
    def get_fields(self):
        fields = super().get_fields()
        for key, twin in RESPONSE_TWINS.items():
            if key in fields and twin not in fields:
                field = copy.deepcopy(fields[key])
                field.help_text = f"同 {key}（camelCase 写法，供 Java 客户端按 Jackson 默认规则读取）"
                fields[twin] = field
        return fields
