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
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
