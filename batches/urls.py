"""Batch endpoints, included under API_PREFIX + "batch/" (ocrsite/urls.py)."""

from django.urls import path

from . import views

app_name = "batches"

urlpatterns = [
    path("scan", views.ScanView.as_view(), name="scan"),
    path("start/<str:task_id>", views.StartView.as_view(), name="start"),
    path("status/<str:task_id>", views.StatusView.as_view(), name="status"),
    path("cancel/<str:task_id>", views.CancelView.as_view(), name="cancel"),
    path("retry/<str:task_id>", views.RetryView.as_view(), name="retry"),
    path("delete/<str:task_id>", views.DeleteView.as_view(), name="delete"),
    path("tasks", views.TaskListView.as_view(), name="tasks"),
    path("search", views.SearchView.as_view(), name="search"),
]
