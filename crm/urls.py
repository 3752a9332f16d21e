from django.urls import path

from crm.views import contacts

app_name = "crm"

urlpatterns = [
    path("contacts/", contacts.contact_list, name="contact_list"),
]
