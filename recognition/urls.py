from django.urls import path

from . import views

urlpatterns = [
    path("recognize", views.RecognizeView.as_view(), name="recognize"),
    path("recognize-batch", views.RecognizeBatchView.as_view(), name="recognize-batch"),
]
