"""Middleware of the shared rules: cross-site refusal for the API and the Content-Security-Policy header."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import JsonResponse

SAFE_FETCH_SITES = {"same-origin", "none"}


def is_api_path(path: str) -> bool:
    return path == settings.API_PREFIX or path.startswith(settings.API_PREFIX + "/")


def _origin_allowed(request, origin: str) -> bool:
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    return bool(parts.scheme and parts.netloc) and parts.scheme == request.scheme and \
        parts.netloc == request.get_host()


class CrossSiteRefusalMiddleware:
    """Refuses API requests a browser sends on behalf of another site: a foreign `Origin` (not this host,
    not in CSRF_TRUSTED_ORIGINS) or `Sec-Fetch-Site: cross-site`/`same-site`. This holds whatever the
    caller's network, so a page elsewhere cannot drive a local install through its visitor's browser; tools
    that send neither header (curl, the seed's clients) are not affected."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path_info):
            origin = request.headers.get("Origin")
            fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
            foreign_origin = origin is not None and not _origin_allowed(request, origin)
            if foreign_origin or (fetch_site and fetch_site not in SAFE_FETCH_SITES and origin is None):
                return JsonResponse({"success": False, "error": "CROSS_SITE_REQUEST",
                                     "message": "拒绝来自其他网站的请求（Origin 不是本服务，也不在 CSRF_TRUSTED_ORIGINS 中）"},
                                    status=403)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Sends CONTENT_SECURITY_POLICY (settings) on every HTML response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response and \
                response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = policy
        return response
