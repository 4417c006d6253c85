"""The API's JSON renderer (REST_FRAMEWORK DEFAULT_RENDERER_CLASSES): DRF's, with the camelCase twins the
seed's Java clients read (core/naming.py) added to every answer; the snake_case keys stay as they are."""

from rest_framework import renderers

from core.naming import with_camel_case_twins


class JsonRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(with_camel_case_twins(data), accepted_media_type, renderer_context)
