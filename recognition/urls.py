from django.urls import path

from . import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
    path("status", views.StatusView.as_view(), name="status"),
    path("recognize", views.RecognizeView.as_view(), name="recognize"),
    path("recognize-batch", views.RecognizeBatchView.as_view(), name="recognize-batch"),
]
