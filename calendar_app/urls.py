from django.urls import path

from calendar_app import views

app_name = "calendar_app"

urlpatterns = [
    path("events/<uuid:pk>/", views.event_detail, name="event_detail"),
    path("events/<uuid:pk>/move/", views.event_move_view, name="event_move"),
    path("events/<uuid:pk>/cancel/", views.event_cancel_view, name="event_cancel"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("settings/", views.preferences, name="preferences"),
    path("settings/feed-token/", views.feed_regenerate, name="feed_regenerate"),
    path("settings/calendar-sync/", views.caldav_settings, name="caldav"),
    path("settings/calendar-sync/calendars/", views.caldav_calendars, name="caldav_calendars"),
    path("settings/calendar-sync/test/", views.caldav_test, name="caldav_test"),
    path("settings/calendar-sync/disconnect/", views.caldav_disconnect, name="caldav_disconnect"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
