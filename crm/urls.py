from django.urls import path

from crm.views import (
    bulk,
    calendar,
    contacts,
    deals,
    exchange,
    imports,
    meetings,
    merging,
    organizations,
    pipelines,
    search,
)

app_name = "crm"

urlpatterns = [
    path("contacts/", contacts.contact_list, name="contact_list"),
    path("contacts/new/", contacts.contact_new, name="contact_new"),
    path(
        "contacts/export/",
        exchange.records_export_view,
        {"kind": "contacts"},
        name="contact_export",
    ),
    path(
        "organizations/export/",
        exchange.records_export_view,
        {"kind": "organizations"},
        name="organization_export",
    ),
    path(
        "deals/export/",
        exchange.records_export_view,
        {"kind": "deals"},
        name="deal_export",
    ),
    path("contacts/bulk/", bulk.bulk_action, {"kind": "contacts"}, name="contact_bulk"),
    path(
        "organizations/bulk/",
        bulk.bulk_action,
        {"kind": "organizations"},
        name="organization_bulk",
    ),
    path("deals/bulk/", bulk.bulk_action, {"kind": "deals"}, name="deal_bulk"),
    path("tags/options/", bulk.tag_options, name="tag_options"),
    path("search/", search.search, name="search"),
    path("contacts/<uuid:pk>/", contacts.contact_detail, name="contact_detail"),
    path("contacts/<uuid:pk>/edit/", contacts.contact_edit, name="contact_edit"),
    path("contacts/<uuid:pk>/timeline/", contacts.contact_timeline_page, name="contact_timeline"),
    path(
        "contacts/<uuid:pk>/interactions/",
        contacts.contact_log_interaction,
        name="contact_log_interaction",
    ),
    path("organizations/", organizations.organization_list, name="organization_list"),
    path("organizations/new/", organizations.organization_new, name="organization_new"),
    path(
        "organizations/options/",
        organizations.organization_options,
        name="organization_options",
    ),
    path(
        "organizations/<uuid:pk>/",
        organizations.organization_detail,
        name="organization_detail",
    ),
    path(
        "organizations/<uuid:pk>/edit/", organizations.organization_edit, name="organization_edit"
    ),
    path("duplicates/", merging.duplicates, name="duplicates"),
    path("contacts/<uuid:pk>/merge/<uuid:other>/", merging.contact_merge, name="contact_merge"),
    path(
        "organizations/<uuid:pk>/merge/<uuid:other>/",
        merging.organization_merge,
        name="organization_merge",
    ),
    path("imports/", imports.import_list, name="import_list"),
    path("imports/new/", imports.import_new, name="import_new"),
    path("imports/preview/", imports.import_preview, name="import_preview"),
    path("imports/start/", imports.import_start, name="import_start"),
    path("imports/<uuid:pk>/", imports.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/errors.csv", imports.import_errors, name="import_errors"),
    path("imports/<uuid:pk>/undo/", imports.import_undo_view, name="import_undo"),
    path("pipelines/", pipelines.pipeline_list, name="pipeline_list"),
    path("pipelines/<uuid:pk>/", pipelines.pipeline_board_view, name="pipeline_board"),
    path("deals/", deals.deal_list, name="deal_list"),
    path("deals/new/", deals.deal_new, name="deal_new"),
    path("deals/contact-options/", deals.deal_contact_options, name="deal_contact_options"),
    path("deals/<uuid:pk>/", deals.deal_detail, name="deal_detail"),
    path("deals/<uuid:pk>/edit/", deals.deal_edit, name="deal_edit"),
    path("deals/<uuid:pk>/move/", deals.deal_move_view, name="deal_move"),
    path(
        "deals/<uuid:pk>/forecast-category/",
        deals.deal_forecast_category_view,
        name="deal_forecast_category",
    ),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("contacts/<uuid:pk>/meetings/new/", meetings.meeting_new, name="meeting_new"),
    path("meetings/<uuid:pk>/edit/", meetings.meeting_edit, name="meeting_edit"),
    path("meetings/<uuid:pk>/cancel/", meetings.meeting_cancel_view, name="meeting_cancel"),
]
