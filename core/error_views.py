"""Django's own error pages (handler400/403/404/500) as the API's JSON for API paths and the operations
endpoints; the dashboard and admin keep Django's HTML pages."""

import sys

from django.http import JsonResponse
from django.views import defaults

from .errors import error_for_exception, error_response_body
from .middleware import is_api_path


def _wants_json(request) -> bool:
    return is_api_path(request.path_info) or request.path_info.rstrip("/") in ("/metrics", "/openapi.json")


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_response_body(400), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_response_body(403), status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_response_body(404), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _wants_json(request):
        # Django calls this while it handles the exception: one outside DRF's views (a token looked up by the
        # probes, a middleware) on a failing database or disk still gets its code, 503 or 507, not a 500.
        coded = error_for_exception(sys.exc_info()[1])
        if coded is not None:
            return JsonResponse(coded.as_dict(), status=coded.status_code)
        return JsonResponse(error_response_body(500), status=500)
    return defaults.server_error(request)
