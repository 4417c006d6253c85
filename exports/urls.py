"""Export endpoints, included under API_PREFIX + "batch/" (ocrsite/urls.py) beside the batch endpoints."""

from django.urls import path

from . import views

app_name = "exports"

urlpatterns = [
    path("export", views.ExportView.as_view(), name="export"),
    path("download/<str:task_id>", views.DownloadView.as_view(), name="download"),
]
