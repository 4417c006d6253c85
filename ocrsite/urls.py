from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from ocrsite import ops_views

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(api_prefix, include("recognition.urls")),
    path(api_prefix + "batch/", include("batches.urls")),
    path(api_prefix + "live", ops_views.live, name="ops-live"),
    path(api_prefix + "ready", ops_views.ready, name="ops-ready"),
    path("metrics", ops_views.metrics, name="ops-metrics"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs-enhanced", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("dashboard.urls")),
]
