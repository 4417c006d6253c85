from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(api_prefix, include("recognition.urls")),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs-enhanced", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]
