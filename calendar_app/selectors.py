"""Calendar reads. Other apps may call these for display; writes go through `services`."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate

from calendar_app.models import (
    DEFAULT_REMINDER_MINUTES,
    Attendee,
    CalendarPreference,
    Event,
    EventStatus,
    Notification,
)
from coop.models import User
from coop.teams import visible_users


def events_between(
    *,
    users: QuerySet[User] | list[User],
    start: datetime,
    end: datetime,
    with_attendees: bool = False,
) -> QuerySet[Event]:
    """Events organized by any of `users` overlapping [start, end), cancelled ones included,
    with their organizer (one query whatever the count); `with_attendees` prefetches the
    attendees and their contacts (one more query)."""
    events = (
        Event.objects.filter(organizer__in=users, start_time__lt=end, end_time__gt=start)
        .select_related("organizer")
        .order_by("start_time", "id")
    )
    if with_attendees:
        events = events.prefetch_related(
            Prefetch(
                "attendees",
                queryset=Attendee.objects.select_related("contact", "user").order_by("id"),
            )
        )
    return events


def first_per_day(queryset: QuerySet, *, field: str, zone: ZoneInfo, limit: int) -> QuerySet:
    """The first `limit` rows of each day of `queryset` (days in `zone`, rows in `field` then
    id order), each annotated with `day_total`: how many rows of `queryset` fall on its day.
    The database does the capping, so a busy day costs `limit` rows, still in one query."""
    day = TruncDate(field, tzinfo=zone)
    return queryset.annotate(
        day_rank=Window(RowNumber(), partition_by=day, order_by=(F(field).asc(), F("pk").asc())),
        day_total=Window(Count("pk"), partition_by=day),
    ).filter(day_rank__lte=limit)


def conflicts(
    *, user: User, start: datetime, end: datetime, exclude: Event | None = None
) -> list[Event]:
    """The user's confirmed events overlapping [start, end), other than `exclude`."""
    queryset = Event.objects.filter(
        organizer=user,
        status=EventStatus.CONFIRMED,
        start_time__lt=end,
        end_time__gt=start,
    )
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    return list(queryset.order_by("start_time"))


def events_visible_to(viewer: User) -> QuerySet[Event]:
    """Events the viewer may open: their own and those of the people they may see."""
    return Event.objects.filter(organizer__in=visible_users(viewer).values("pk"))


def reminder_minutes_for(user: User) -> int:
    minutes = (
        CalendarPreference.objects.filter(user=user)
        .values_list("reminder_minutes", flat=True)
        .first()
    )
    return DEFAULT_REMINDER_MINUTES if minutes is None else minutes


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("event")
