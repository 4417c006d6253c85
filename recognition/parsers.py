"""Request body parsers of the API: DRF's JSON parser, answering a body nested too deeply for Python's JSON
decoder (a RecursionError, an HTML 500 before) as a malformed body."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON 嵌套层数过多") from None
