from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("", views.index, name="index"),
    path("consent/", views.consent, name="consent"),
    path("insights/", views.insights, name="insights"),
    path("metrics/", views.metrics, name="metrics"),
]
