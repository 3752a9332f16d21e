from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("deals/<uuid:pk>/close/", views.deal_close_view, name="deal_close"),
    path("deals/<uuid:pk>/reopen/", views.deal_reopen_view, name="deal_reopen"),
    path(
        "contacts/<uuid:pk>/personal-data/",
        views.contact_personal_data,
        name="contact_personal_data",
    ),
    path("contacts/<uuid:pk>/erase/", views.contact_erase, name="contact_erase"),
]
