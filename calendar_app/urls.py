from django.urls import path

from calendar_app import views

app_name = "calendar_app"

urlpatterns = [
    path("", views.index, name="index"),
]
