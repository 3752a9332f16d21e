from django.urls import path

from finance import views

app_name = "finance"

urlpatterns = [
    path("", views.index, name="index"),
    path("generate/", views.generate, name="generate"),
    path("revenue/", views.revenue, name="revenue"),
    path("targets/", views.targets, name="targets"),
    path("targets/import/", views.targets_import, name="targets_import"),
    path("attainment/", views.attainment, name="attainment"),
    path("submissions/", views.submissions, name="submissions"),
    path("deals/<uuid:pk>/probability/", views.deal_probability, name="deal_probability"),
    path("probabilities/", views.probabilities, name="probabilities"),
    path("probabilities/refit/", views.probabilities_refit, name="probabilities_refit"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/what-if/", views.whatif, name="whatif"),
    path("<uuid:pk>/scenario/", views.scenario_save, name="scenario_save"),
    path("<uuid:pk>/export.<str:file_format>", views.export, name="export"),
]
