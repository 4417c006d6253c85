from django.urls import path

from . import views_auth, views_batch, views_recognize, views_search

app_name = "dashboard"

urlpatterns = [
    path("", views_recognize.index, name="index"),
    path("recognize/", views_recognize.recognize, name="recognize"),
    path("login/", views_auth.LoginView.as_view(), name="login"),
    path("logout/", views_auth.LogoutView.as_view(), name="logout"),
    path("batch", views_batch.batch, name="batch"),
    path("batch/", views_batch.batch),
    path("batch/scan", views_batch.scan, name="scan"),
    path("batch/state", views_batch.tasks_state, name="tasks-state"),
    path("batch/search", views_search.search, name="search"),
    path("batch/tasks/<str:task_id>", views_batch.task_detail, name="task"),
    path("batch/tasks/<str:task_id>/state", views_batch.task_state_json, name="task-state"),
    path("batch/tasks/<str:task_id>/download", views_batch.download, name="download"),
    path("batch/tasks/<str:task_id>/pages/<str:page_id>", views_batch.page_view, name="page"),
    path("batch/tasks/<str:task_id>/pages/<str:page_id>/image", views_batch.page_image, name="page-image"),
    path("batch/tasks/<str:task_id>/<str:action>", views_batch.task_action, name="task-action"),
]
