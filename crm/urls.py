from django.urls import path

from crm.views import contacts

app_name = "crm"

urlpatterns = [
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_new, name="contact_new"),
    path("contacts/<uuid:pk>/", contacts.contact_detail, name="contact_detail"),
    path("contacts/<uuid:pk>/edit/", contacts.contact_edit, name="contact_edit"),
    path("contacts/<uuid:pk>/timeline/", contacts.contact_timeline_page, name="contact_timeline"),
    path(
        "contacts/<uuid:pk>/interactions/",
        contacts.contact_log_interaction,
        name="contact_log_interaction",
    ),
]
