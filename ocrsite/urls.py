from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from ocrsite import ops_views, status_views

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(api_prefix + "health", status_views.HealthView.as_view(), name="health"),
    path(api_prefix + "status", status_views.StatusView.as_view(), name="status"),
    path(api_prefix, include("recognition.urls")),
    path(api_prefix + "batch/", include("batches.urls")),
    path(api_prefix + "batch/", include("exports.urls")),
    path(api_prefix + "live", ops_views.live, name="ops-live"),
    path(api_prefix + "ready", ops_views.ready, name="ops-ready"),
    path("metrics", ops_views.metrics, name="ops-metrics"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs-enhanced", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # Browsers ask for /favicon.ico on their own, whatever the page links.
    path("favicon.ico", RedirectView.as_view(url=static("dashboard/favicon.svg"), permanent=True)),
    path("", include("dashboard.urls")),
]

handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.page_not_found"
handler500 = "core.error_views.server_error"
