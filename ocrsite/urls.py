from django.conf import settings
from django.contrib import admin
from django.urls import include, path

api_prefix = settings.API_PREFIX.strip("/") + "/"

urlpatterns = [
    path("admin/", admin.site.urls),
    path(api_prefix, include("recognition.urls")),
]
