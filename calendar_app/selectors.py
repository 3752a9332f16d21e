"""Calendar reads. Other apps may call these for display; writes go through `services`."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber, TruncDate

from calendar_app.models import (
    DEFAULT_REMINDER_MINUTES,
    Attendee,
    BusyTime,
    CalendarPreference,
    Event,
    EventStatus,
    Notification,
)
from coop.models import User
from coop.visibility import visible_team_q, visible_users


def event_details_visible_q(viewer: User) -> Q:
    """The condition "the viewer may see this event's details": they organize or attend it,
    or it is personal (no team), or it is about records of a team they see
    (`coop.visibility`). Anyone else allowed to see the organizer's calendar sees a busy
    block."""
    attends = Exists(Attendee.objects.filter(event=OuterRef("pk"), user=viewer))
    return (
        Q(organizer=viewer) | Q(attends) | Q(team__isnull=True) | visible_team_q(viewer, "team_id")
    )


def events_between(
    *,
    users: QuerySet[User] | list[User],
    start: datetime,
    end: datetime,
    viewer: User | None = None,
) -> QuerySet[Event]:
    """Events organized by any of `users` overlapping [start, end), cancelled ones included,
    with their organizer (one query whatever the count); with a `viewer`, each is annotated
    with `details_visible` (`event_details_visible_q`)."""
    events = (
        Event.objects.filter(organizer__in=users, start_time__lt=end, end_time__gt=start)
        .select_related("organizer")
        .order_by("start_time", "id")
    )
    if viewer is not None:
        events = events.annotate(
            details_visible=ExpressionWrapper(
                event_details_visible_q(viewer), output_field=BooleanField()
            )
        )
    return events


def events_of(*, user: User, start: datetime, end: datetime) -> QuerySet[Event]:
    """Events the user organises or attends overlapping [start, end), cancelled ones
    included, with their organizer and attendees (three queries whatever the count)."""
    attends = Exists(Attendee.objects.filter(event=OuterRef("pk"), user=user))
    return (
        Event.objects.filter(Q(organizer=user) | Q(attends), start_time__lt=end, end_time__gt=start)
        .select_related("organizer")
        .prefetch_related(
            Prefetch("attendees", queryset=Attendee.objects.select_related("user").order_by("id"))
        )
        .order_by("start_time", "id")
    )


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
    *,
    user: User,
    start: datetime,
    end: datetime,
    exclude: Event | None = None,
    viewer: User | None = None,
) -> list[Event | BusyTime]:
    """The user's confirmed events overlapping [start, end), other than `exclude`, and the
    busy times pulled from their own calendars; those keep their titles only when the
    `viewer` (default: the user) is the user: another person, staff moving the meeting say,
    sees "Busy"."""
    queryset = Event.objects.filter(
        organizer=user,
        status=EventStatus.CONFIRMED,
        start_time__lt=end,
        end_time__gt=start,
    )
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude.pk)
    busy = list(busy_times_between(users=[user], start=start, end=end))
    if viewer is not None and viewer.pk != user.pk:
        for item in busy:
            item.summary = ""
    return sorted([*queryset, *busy], key=lambda item: item.start_time)


def busy_times_between(
    *, users: QuerySet[User] | list[User], start: datetime, end: datetime
) -> QuerySet[BusyTime]:
    """Busy times pulled from the users' own calendars overlapping [start, end). Their
    summaries are private: a page shows them to their owner only."""
    return BusyTime.objects.filter(user__in=users, start_time__lt=end, end_time__gt=start).order_by(
        "start_time", "id"
    )


def events_visible_to(viewer: User) -> QuerySet[Event]:
    """Events the viewer may open: those of the people whose calendar they may see
    (`coop.visibility.visible_users`) whose details they may see, and those they attend."""
    attends = Exists(Attendee.objects.filter(event=OuterRef("pk"), user=viewer))
    visible_calendar = Q(organizer__in=visible_users(viewer).values("pk"))
    return Event.objects.filter((visible_calendar & event_details_visible_q(viewer)) | Q(attends))


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


def guest_meetings(*, url: str) -> list[dict]:
    """The meetings a guest (known by their page's link) was invited to, as JSON-ready
    values, for their data on request (GDPR Art. 15)."""
    attendances = (
        Attendee.objects.filter(user__isnull=True, guest_url=url)
        .select_related("event", "event__organizer")
        .order_by("event__start_time")
    )
    return [
        {
            "title": attendance.event.title,
            "start": attendance.event.start_time.isoformat(),
            "end": attendance.event.end_time.isoformat(),
            "location": attendance.event.location,
            "status": attendance.event.status,
            "organizer": str(attendance.event.organizer),
            "invited_as": {"name": attendance.guest_name, "email": attendance.guest_email},
        }
        for attendance in attendances
    ]
