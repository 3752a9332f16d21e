"""Calendar records: events (table `calendar_events`, as the integration plan names it), their
attendees, reminders, in-app notifications and each user's calendar preferences.

All datetimes are aware UTC in the database; pages show and take them in `user.zone`.
"""

import hashlib
import secrets
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_lazy

from coop.models import Team, User

DEFAULT_REMINDER_MINUTES = 15
MAX_REMINDER_MINUTES = 7 * 24 * 60


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def feed_token_digest(token: str) -> str:
    """What is stored of a feed token: its SHA-256, in hex. A token is 256 random bits, so a
    plain hash is enough: the digest gives nobody a way back to a working address."""
    return hashlib.sha256(token.encode()).hexdigest()


class EventStatus(models.TextChoices):
    CONFIRMED = "confirmed", gettext_lazy("Confirmed")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")


class Event(models.Model):
    """A meeting in the organizer's calendar. `sequence` grows with every change that attendees
    must hear about (RFC 5545 SEQUENCE): a move, an edit or a cancellation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organizer = models.ForeignKey(
        User, on_delete=models.DB_CASCADE, related_name="organized_events"
    )
    # The team whose records the meeting is about (a CRM contact's team), or NULL for a
    # personal event. Its details are shown to that team's members only (`coop.visibility`);
    # anyone else allowed to see the organizer's calendar sees a busy block.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="events"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    location = models.CharField(max_length=255, blank=True)
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.CONFIRMED
    )
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "calendar_events"
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["organizer", "start_time"], name="calendar_event_org_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="calendar_events_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EventStatus.values), name="calendar_events_status_check"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.CANCELLED


class Rsvp(models.TextChoices):
    NEEDS_ACTION = "needs_action", gettext_lazy("Awaiting reply")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    DECLINED = "declined", gettext_lazy("Declined")
    TENTATIVE = "tentative", gettext_lazy("Tentative")


class Attendee(models.Model):
    """A user, or a guest from outside the calendar (a CRM contact, say), invited to an event:
    exactly one of `user` and `guest_name`. The calendar knows a guest only by the name, email
    address and link it was given; the module that invited them keeps its own reference."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.DB_CASCADE, related_name="attendees")
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="attendances"
    )
    guest_name = models.CharField(max_length=200, blank=True)
    guest_email = models.EmailField(blank=True)
    # Where the guest's own page is in the app (e.g. the CRM contact page); empty for none.
    guest_url = models.CharField(max_length=255, blank=True)
    rsvp = models.CharField(max_length=20, choices=Rsvp.choices, default=Rsvp.NEEDS_ACTION)
    # When the last invitation email went out; NULL: never invited by email, so moves and
    # cancellations send this attendee nothing either.
    invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "calendar_attendees"
        ordering = ["event", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, guest_name="")
                | (Q(user__isnull=True) & ~Q(guest_name="")),
                name="calendar_attendees_user_xor_guest",
            ),
            models.CheckConstraint(
                condition=Q(rsvp__in=Rsvp.values), name="calendar_attendees_rsvp_check"
            ),
            models.UniqueConstraint(
                fields=["event", "user"], name="calendar_attendee_event_user_uniq"
            ),
            # A link within the app only: a path, never another site or a script URL.
            models.CheckConstraint(
                condition=Q(guest_url="") | Q(guest_url__regex=r"^/[A-Za-z0-9_-]"),
                name="calendar_attendees_guest_url_local",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user) if self.user_id else self.guest_name

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class ReminderKind(models.TextChoices):
    BEFORE = "before", gettext_lazy("Before the meeting")
    FOLLOW_UP = "follow_up", gettext_lazy("Follow-up after the meeting")


class Reminder(models.Model):
    """One message to one user about one event, due at `due_at`, sent once (`sent_at`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.DB_CASCADE, related_name="reminders")
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "calendar_reminders"
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at__isnull=True),
                name="calendar_reminder_due_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user", "kind"], name="calendar_reminder_event_user_kind_uniq"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="calendar_reminders_kind_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.event}"


class Notification(models.Model):
    """An in-app message for one user; unread while `read_at` is NULL."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="notifications")
    event = models.ForeignKey(
        Event, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="notifications"
    )
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    # The page the notification is about, when it is not a meeting (a task, a note): a path
    # in this app, written by the module that sends it (see `notifications_send`).
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "calendar_notifications"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="calendar_notif_user_read_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class CalendarPreference(models.Model):
    """A user's calendar settings: reminder lead time and the hash of their ICS feed's secret
    token (the token itself is never stored)."""

    user = models.OneToOneField(
        User, primary_key=True, on_delete=models.DB_CASCADE, related_name="calendar_preference"
    )
    reminder_minutes = models.PositiveIntegerField(
        default=DEFAULT_REMINDER_MINUTES,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_REMINDER_MINUTES)],
        help_text=gettext_lazy("How long before each meeting the reminder is sent."),
    )
    # NULL until the user makes a feed address: Django's advice for an optional unique string.
    feed_token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )

    class Meta:
        db_table = "calendar_preferences"
        constraints = [
            models.CheckConstraint(
                condition=Q(reminder_minutes__lte=MAX_REMINDER_MINUTES),
                name="calendar_preferences_reminder_minutes_max",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar preferences of {self.user}"


class CalDavStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Connected")
    FAILING = "failing", gettext_lazy("Failing, retrying")
    STOPPED = "stopped", gettext_lazy("Stopped after repeated failures")


class CalDavAccount(models.Model):
    """A person's CalDAV account (Nextcloud, Fastmail, Radicale…). The app password is stored
    only encrypted (`calendar_app.crypto`); no page shows it again and no log line names it.
    A sync that fails counts in `failure_count` (the reason in `last_error`); after
    `settings.CALDAV_MAX_FAILURES` in a row the account is `stopped` until it is fixed (a
    successful test or new credentials)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(User, on_delete=models.DB_CASCADE, related_name="caldav_account")
    server_url = models.URLField(max_length=500)
    username = models.CharField(max_length=200)
    password_encrypted = models.TextField(editable=False)
    status = models.CharField(
        max_length=10, choices=CalDavStatus.choices, default=CalDavStatus.ACTIVE
    )
    failure_count = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "calendar_caldav_accounts"
        verbose_name = gettext_lazy("CalDAV account")
        indexes = [models.Index(fields=["next_sync_at"], name="calendar_caldav_next_sync_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CalDavStatus.values), name="calendar_caldav_status_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} on {self.server_url}"


class RemoteCalendar(models.Model):
    """One calendar of a CalDAV account: whether it receives the CRM's meetings (one per
    account at most) and whether its events count as busy, with the RFC 6578 sync token of
    the last pull (or the library's emulated one where the server offers none)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(
        CalDavAccount, on_delete=models.DB_CASCADE, related_name="calendars"
    )
    url = models.CharField(max_length=1000)
    name = models.CharField(max_length=255, blank=True)
    receives_meetings = models.BooleanField(default=False)
    counts_as_busy = models.BooleanField(default=False)
    sync_token = models.CharField(max_length=1000, blank=True)

    class Meta:
        db_table = "calendar_remote_calendars"
        ordering = ["name", "url"]
        constraints = [
            models.UniqueConstraint(fields=["account", "url"], name="calendar_remote_url_uniq"),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(receives_meetings=True),
                name="calendar_remote_one_receiver",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.url


class BusyTime(models.Model):
    """A time pulled from a person's own calendar (one row per occurrence of a remote event).
    Its summary is private: only its owner sees it; everybody else sees "Busy"."""

    id = models.BigAutoField(primary_key=True)
    calendar = models.ForeignKey(
        RemoteCalendar, on_delete=models.DB_CASCADE, related_name="busy_times"
    )
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="busy_times")
    href = models.CharField(max_length=1000)
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    summary = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = "calendar_busy_times"
        ordering = ["start_time", "id"]
        indexes = [
            models.Index(fields=["user", "start_time"], name="calendar_busy_user_start_idx"),
            models.Index(fields=["calendar", "href"], name="calendar_busy_href_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="calendar_busy_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"Busy {self.start_time:%Y-%m-%d %H:%M}"

    @property
    def title(self) -> str:
        """What the owner sees (in a conflict warning, say): the remote event's summary."""
        return self.summary or gettext("Busy")


class PushedEvent(models.Model):
    """The copy of a CRM event on a person's receiving calendar: where it is, its ETag (sent
    back as `If-Match`, so a change made on the other side is detected, never overwritten
    unknowingly) and the state last agreed by both sides, which tells an external change from
    our own write (docs: README "Calendar sync")."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(CalDavAccount, on_delete=models.DB_CASCADE, related_name="copies")
    event = models.ForeignKey(Event, on_delete=models.DB_CASCADE, related_name="copies")
    href = models.CharField(max_length=1000)
    etag = models.CharField(max_length=255)
    sequence = models.PositiveIntegerField()
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    partstat = models.CharField(max_length=20, blank=True)

    class Meta:
        db_table = "calendar_pushed_events"
        constraints = [
            models.UniqueConstraint(fields=["account", "event"], name="calendar_pushed_uniq"),
        ]

    def __str__(self) -> str:
        return self.href
