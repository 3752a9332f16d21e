from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("deals/<uuid:pk>/close/", views.deal_close_view, name="deal_close"),
]
