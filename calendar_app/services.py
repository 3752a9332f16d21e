"""Calendar write services. Each public function is atomic: it validates, then writes
everything or nothing, and raises `ValidationError` with a message for the person on bad input.

Only an event's organizer (or staff) may change it. Email and task enqueueing happen in
`transaction.on_commit`, so a rolled-back write sends nothing.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import icalendar
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from calendar_app import ics
from calendar_app.models import (
    Attendee,
    CalendarPreference,
    Event,
    EventStatus,
    Notification,
    Reminder,
    ReminderKind,
    Rsvp,
    feed_token_digest,
    new_feed_token,
)
from calendar_app.selectors import conflicts, reminder_minutes_for
from coop.dates import validate_supported_date
from coop.i18n import in_language_of
from coop.models import Team, User
from coop.validators import require_single_line

MAX_EVENT_LENGTH = timedelta(hours=24)
REMINDER_BATCH = 200


@dataclass(frozen=True)
class Guest:
    """Someone invited from outside the calendar (a CRM contact, say): a name, an email address
    for invitations (may be empty) and a link to their page in the app (may be empty)."""

    name: str
    email: str = ""
    url: str = ""


class ConflictError(ValidationError):
    """The new time overlaps other confirmed events of the organizer (listed in `conflicts`)."""

    def __init__(self, events: list[Event]):
        super().__init__(
            ngettext(
                "This overlaps %(count)d other event in your calendar.",
                "This overlaps %(count)d other events in your calendar.",
                len(events),
            ),
            code="conflict",
            params={"count": len(events)},
        )
        self.conflicts = events


def _validate(*, title: str, start_time: datetime, end_time: datetime) -> None:
    if not title.strip():
        raise ValidationError(gettext("Give the meeting a title."), code="title")
    if timezone.is_naive(start_time) or timezone.is_naive(end_time):
        raise ValueError("Event times must be timezone-aware.")
    validate_supported_date(start_time)
    validate_supported_date(end_time)
    if end_time <= start_time:
        raise ValidationError(
            gettext("The meeting must end after it starts."), code="end_before_start"
        )
    if end_time - start_time > MAX_EVENT_LENGTH:
        raise ValidationError(gettext("A meeting can last at most 24 hours."), code="too_long")


def _check_conflicts(
    *,
    organizer: User,
    start_time: datetime,
    end_time: datetime,
    exclude: Event | None = None,
    viewer: User | None = None,
) -> None:
    found = conflicts(
        user=organizer, start=start_time, end=end_time, exclude=exclude, viewer=viewer
    )
    if found:
        raise ConflictError(found)


def _enqueue_reminders() -> None:
    """After the commit, send whatever became due (a meeting starting within the lead time).
    Imported here because the task module imports this one."""
    from calendar_app.tasks import send_due_reminders

    transaction.on_commit(send_due_reminders.enqueue)


def _enqueue_invitations(event: Event, *, update: bool = False) -> None:
    """After the commit, email the invited contacts the event's state, as a retried task."""
    from calendar_app.tasks import send_invitations

    transaction.on_commit(partial(send_invitations.enqueue, str(event.pk), update=update))


def _enqueue_push(event: Event) -> None:
    """After the commit, bring the copies on the connected calendars of the people at the
    meeting up to date (`calendar_app.caldav_sync`)."""
    from calendar_app.tasks import push_event

    transaction.on_commit(partial(push_event.enqueue, str(event.pk)))


def _schedule_reminders(event: Event) -> None:
    """(Re)set the organizer's two reminders: before the start and a follow-up at the end.
    A reminder whose time changes is due again, even if its earlier time was already sent."""
    lead = timedelta(minutes=reminder_minutes_for(event.organizer))
    now = timezone.now()
    wanted = {ReminderKind.FOLLOW_UP: event.end_time}
    if event.start_time > now:
        wanted[ReminderKind.BEFORE] = event.start_time - lead
    existing = {
        reminder.kind: reminder for reminder in event.reminders.filter(user=event.organizer)
    }
    for kind, reminder in existing.items():
        if kind not in wanted and reminder.sent_at is None:
            reminder.delete()
    for kind, due_at in wanted.items():
        reminder = existing.get(kind)
        if reminder is None:
            Reminder.objects.create(event=event, user=event.organizer, kind=kind, due_at=due_at)
        elif reminder.due_at != due_at:
            reminder.due_at = due_at
            reminder.sent_at = None
            reminder.save(update_fields=["due_at", "sent_at"])


def event_change_refusal(actor: User, event: Event) -> str | None:
    """Why the actor may not move, edit or cancel the event, or None when they may."""
    if event.organizer_id != actor.pk and not actor.is_staff:
        return gettext("Only the organizer can change this meeting.")
    if event.is_cancelled:
        return gettext("This meeting is cancelled.")
    return None


def _locked_open_event(actor: User, event: Event) -> Event:
    event = (
        Event.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organizer")
        .get(pk=event.pk)
    )
    refusal = event_change_refusal(actor, event)
    if refusal:
        raise ValidationError(refusal, code="refused")
    return event


@transaction.atomic
def event_create(
    *,
    organizer: User,
    title: str,
    start_time: datetime,
    end_time: datetime,
    description: str = "",
    location: str = "",
    team: Team | None = None,
    guests: Sequence[Guest] = (),
    invite: bool = False,
    allow_conflicts: bool = False,
) -> Event:
    """Create a confirmed event with its attendees (the organizer, accepted, and `guests`)
    and the organizer's reminders, all or nothing. `team`: whose records the meeting is about
    (its members see the details; see `selectors.events_visible_to`).

    Raises `ConflictError` when it overlaps the organizer's confirmed events, unless
    `allow_conflicts`. With `invite`, each guest is emailed an .ics (METHOD:REQUEST) after
    the commit; a guest without an email address is then refused.
    """
    _validate(title=title, start_time=start_time, end_time=end_time)
    require_single_line(title=title, location=location)
    if invite:
        missing = [guest.name for guest in guests if not guest.email]
        if missing:
            raise ValidationError(
                "%(names)s has no email address, so no invitation can be sent.",
                code="no_email",
                params={"names": ", ".join(missing)},
            )
    if not allow_conflicts:
        _check_conflicts(organizer=organizer, start_time=start_time, end_time=end_time)
    event = Event(
        organizer=organizer,
        team=team,
        title=title.strip(),
        description=description.strip(),
        location=location.strip(),
        start_time=start_time,
        end_time=end_time,
    )
    event.full_clean(exclude=["organizer", "team"])
    event.save()
    now = timezone.now()
    Attendee.objects.create(event=event, user=organizer, rsvp=Rsvp.ACCEPTED)
    Attendee.objects.bulk_create(
        Attendee(
            event=event,
            guest_name=guest.name,
            guest_email=guest.email,
            guest_url=guest.url,
            invited_at=now if invite else None,
        )
        for guest in guests
    )
    _schedule_reminders(event)
    _enqueue_reminders()
    _enqueue_push(event)
    if invite:
        _enqueue_invitations(event)
    return event


def _reschedule(
    event: Event,
    *,
    actor: User,
    start_time: datetime,
    end_time: datetime,
    allow_conflicts: bool,
    **fields: str,
) -> Event:
    _validate(title=fields.get("title", event.title), start_time=start_time, end_time=end_time)
    require_single_line(**{name: fields[name] for name in ("title", "location") if name in fields})
    if not allow_conflicts:
        _check_conflicts(
            organizer=event.organizer,
            start_time=start_time,
            end_time=end_time,
            exclude=event,
            viewer=actor,
        )
    moved = (start_time, end_time) != (event.start_time, event.end_time)
    fields = {name: value.strip() for name, value in fields.items()}
    changed = moved or any(getattr(event, name) != value for name, value in fields.items())
    if not changed:
        return event
    event.start_time, event.end_time = start_time, end_time
    for name, value in fields.items():
        setattr(event, name, value)
    event.sequence += 1
    event.full_clean(exclude=["organizer"])
    event.save()
    if moved:
        _schedule_reminders(event)
        _enqueue_reminders()
    _enqueue_push(event)
    if event.attendees.filter(invited_at__isnull=False).exists():
        _enqueue_invitations(event, update=True)
    return event


@transaction.atomic
def event_update(
    *,
    actor: User,
    event: Event,
    title: str,
    start_time: datetime,
    end_time: datetime,
    description: str = "",
    location: str = "",
    allow_conflicts: bool = False,
) -> Event:
    """Edit a confirmed event (row-locked; organizer only). Any change raises SEQUENCE and
    re-sends the invitation to invited contacts as an update; a new time re-arms reminders."""
    event = _locked_open_event(actor, event)
    return _reschedule(
        event,
        actor=actor,
        start_time=start_time,
        end_time=end_time,
        allow_conflicts=allow_conflicts,
        title=title,
        description=description,
        location=location,
    )


@transaction.atomic
def event_move(
    *,
    actor: User,
    event: Event,
    start_time: datetime,
    end_time: datetime | None = None,
    allow_conflicts: bool = False,
) -> Event:
    """Move a confirmed event to a new start (keeping its length unless `end_time` is given);
    the same guarantees as `event_update`."""
    event = _locked_open_event(actor, event)
    validate_supported_date(start_time)  # before the arithmetic, which could overflow
    if end_time is None:
        end_time = start_time + (event.end_time - event.start_time)
    return _reschedule(
        event,
        actor=actor,
        start_time=start_time,
        end_time=end_time,
        allow_conflicts=allow_conflicts,
    )


@transaction.atomic
def event_cancel(*, actor: User, event: Event) -> Event:
    """Cancel a confirmed event (row-locked; organizer only): status cancelled, SEQUENCE
    raised, unsent reminders dropped, and invited contacts sent a METHOD:CANCEL."""
    event = _locked_open_event(actor, event)
    event.status = EventStatus.CANCELLED
    event.sequence += 1
    event.save(update_fields=["status", "sequence", "updated_at"])
    event.reminders.filter(sent_at__isnull=True).delete()
    _enqueue_push(event)
    if event.attendees.filter(invited_at__isnull=False).exists():
        _enqueue_invitations(event)
    return event


@transaction.atomic
def attendee_rsvp_set(*, attendee: Attendee, rsvp: str) -> Attendee:
    """Record an attendee's reply (from their calendar, or one their server took from the
    emailed invitation); a declined user's calendar copy is then removed at the next push."""
    if rsvp not in Rsvp.values:
        raise ValidationError(gettext("Unknown reply."), code="rsvp")
    attendee = Attendee.objects.select_for_update(no_key=True).get(pk=attendee.pk)
    if attendee.rsvp != rsvp:
        attendee.rsvp = rsvp
        attendee.save(update_fields=["rsvp"])
        _enqueue_push(attendee.event)
    return attendee


def _sequence(component: icalendar.Event) -> int:
    try:
        return int(component.get("sequence", 0))
    except (TypeError, ValueError):
        return 0


@transaction.atomic(durable=True)
def invitation_reply_apply(*, ical: bytes) -> int:
    """Record the replies in an iTIP METHOD:REPLY (RFC 5546 §3.2.3), the .ics a guest's
    calendar program sends back to an invitation: each ATTENDEE of one of our events, found
    by email address, gets its PARTSTAT as RSVP. A reply to an older SEQUENCE than the
    event's is ignored (the guest answered a time that has since changed). Returns how many
    attendees changed; raises `ValidationError` on a document that is not a reply."""
    try:
        calendar = icalendar.Calendar.from_ical(ical)
    except ValueError as error:
        raise ValidationError(gettext("This is not an iCalendar document."), code="ical") from error
    if str(calendar.get("method", "")).upper() != "REPLY":
        raise ValidationError(gettext("This is not a reply to an invitation."), code="method")
    changed = 0
    for component in calendar.walk("VEVENT"):
        event_id = ics.event_id_from_uid(str(component.get("uid", "")))
        event = Event.objects.filter(pk=event_id).first() if event_id else None
        if event is None or _sequence(component) < event.sequence:
            continue
        for email, partstat in ics.attendee_partstats(component).items():
            rsvp = ics.RSVP_OF_PARTSTAT.get(partstat)
            attendee = event.attendees.filter(
                Q(guest_email__iexact=email) | Q(user__email__iexact=email)
            ).first()
            if rsvp and attendee is not None and attendee.rsvp != rsvp:
                attendee_rsvp_set(attendee=attendee, rsvp=rsvp)
                changed += 1
    return changed


@transaction.atomic
def preference_get_or_create(*, user: User) -> CalendarPreference:
    """The user's calendar preferences, created with defaults (and no feed address) if
    missing."""
    preference, _ = CalendarPreference.objects.get_or_create(user=user)
    return preference


@transaction.atomic
def preference_update(*, user: User, reminder_minutes: int) -> CalendarPreference:
    """Set the reminder lead time; reminders not yet sent for future meetings follow it."""
    preference = CalendarPreference.objects.select_for_update(no_key=True).get_or_create(user=user)[
        0
    ]
    preference.reminder_minutes = reminder_minutes
    preference.full_clean(exclude=["user"])
    preference.save(update_fields=["reminder_minutes"])
    for event in Event.objects.filter(
        organizer=user, status=EventStatus.CONFIRMED, start_time__gt=timezone.now()
    ).select_related("organizer"):
        _schedule_reminders(event)
    _enqueue_reminders()
    return preference


@transaction.atomic
def feed_token_regenerate(*, user: User) -> str:
    """Give the user's ICS feed a new secret address and return its token; the old address
    stops working at once. Only the token's hash is stored, so this is the one time the token
    exists: the caller shows it to the user once, and nobody can read it back later."""
    preference = CalendarPreference.objects.select_for_update(no_key=True).get_or_create(user=user)[
        0
    ]
    token = new_feed_token()
    preference.feed_token_hash = feed_token_digest(token)
    preference.save(update_fields=["feed_token_hash"])
    return token


def _reminder_text(reminder: Reminder) -> tuple[str, str]:
    """The reminder's title and text, in its person's language (the browser's choice is not
    known here: without a language of their own, the site's)."""
    with translation.override(reminder.user.language or None):
        return _reminder_words(reminder)


def _reminder_words(reminder: Reminder) -> tuple[str, str]:
    event = reminder.event
    with_whom = ", ".join(
        attendee.guest_name for attendee in event.attendees.all() if attendee.is_guest
    )
    with timezone.override(reminder.user.zone):
        when = date_format(timezone.localtime(event.start_time), "D d M Y, H:i")
    words = {"title": event.title, "with": with_whom, "when": when, "place": event.location}
    if reminder.kind == ReminderKind.BEFORE:
        title = gettext("Upcoming meeting: %(title)s") % words
        if with_whom and event.location:
            body = gettext("%(title)s with %(with)s, %(when)s at %(place)s.") % words
        elif with_whom:
            body = gettext("%(title)s with %(with)s, %(when)s.") % words
        elif event.location:
            body = gettext("%(title)s, %(when)s at %(place)s.") % words
        else:
            body = gettext("%(title)s, %(when)s.") % words
    else:
        title = gettext("Log the outcome of your meeting with %(whom)s") % {
            "whom": with_whom or event.title
        }
        body = (
            gettext(
                "Your meeting “%(title)s” (%(when)s) has ended. Log how it went on the timeline."
            )
            % words
        )
    return title, body


# Senders of the reminders other modules keep (a CRM task's, say), registered from their
# app's `ready()`: each is called as `sender(now=...)`, sends its due reminders once, cron-safe
# as below, and returns how many it sent. The calendar never imports the modules above it.
_due_reminder_senders: list[Callable[..., int]] = []


def due_reminder_sender_register(sender: Callable[..., int]) -> None:
    """Have `reminders_send_due` (the `send_reminders` command and task) call `sender` too."""
    if sender not in _due_reminder_senders:
        _due_reminder_senders.append(sender)


def notifications_send(*, notifications: list[Notification]) -> list[Notification]:
    """Write in-app notifications and email each after the commit (one retried task each).
    Runs inside the caller's transaction: a rolled-back caller sends nothing."""
    from calendar_app.tasks import send_notification_email

    created = Notification.objects.bulk_create(notifications)
    for notification in created:
        transaction.on_commit(partial(send_notification_email.enqueue, str(notification.pk)))
    return created


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Send every due, unsent reminder once: an in-app notification and an email. Returns
    how many were sent, those of the registered senders (`due_reminder_sender_register`)
    included.

    Cron-safe: each batch is claimed with `select_for_update(skip_locked=True)` and marked
    sent in the same transaction, so concurrent runs never claim the same reminder. Emails
    leave after the commit, one task each (retried after a transient failure; the in-app
    notification is there either way).
    """
    from calendar_app.tasks import send_notification_email

    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    sent_at__isnull=True,
                    due_at__lte=now,
                    event__status=EventStatus.CONFIRMED,
                )
                .select_related("event", "user")
                .prefetch_related("event__attendees")
                .order_by("due_at")[:REMINDER_BATCH]
            )
            if not batch:
                break
            notifications = []
            for reminder in batch:
                with in_language_of(reminder.user):
                    title, body = _reminder_text(reminder)
                notifications.append(
                    Notification(user=reminder.user, event=reminder.event, title=title, body=body)
                )
                reminder.sent_at = now
            Reminder.objects.bulk_update(batch, ["sent_at"])
            Notification.objects.bulk_create(notifications)
            for notification in notifications:
                transaction.on_commit(
                    partial(send_notification_email.enqueue, str(notification.pk))
                )
            total += len(batch)
    for sender in _due_reminder_senders:
        total += sender(now=now)
    return total


def notification_send(*, user: User, title: str, body: str = "", link: str = "") -> Notification:
    """One in-app message for `user` (their Notifications page, with an in-app `link` if
    given), emailed after the commit as `notifications_send` does; inside the caller's
    transaction: what other modules call to tell a person something (e.g. a new owner)."""
    (notification,) = notifications_send(
        notifications=[Notification(user=user, title=title[:255], body=body, link=link)]
    )
    return notification


@transaction.atomic
def notifications_mark_read(*, user: User, notification_ids: Sequence | None = None) -> int:
    """Mark the user's unread notifications (all, or the given ones) read; return how many."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())


def guests_relink(*, old_url: str, guest: Guest) -> int:
    """Make every attendance of the guest whose page was `old_url` one of `guest` (name,
    email address, page), e.g. when two CRM contacts are merged into one. Runs inside the
    caller's transaction; returns how many attendances changed."""
    return Attendee.objects.filter(user__isnull=True, guest_url=old_url).update(
        guest_name=guest.name, guest_email=guest.email, guest_url=guest.url
    )


ERASED = "(erased)"


def guest_erase(*, url: str) -> list:
    """Remove a guest's identity from the calendar (their right to erasure): their
    attendances, found by their page's link, are deleted, and the events they attended keep
    their times but lose title, description and location, which may name them, as do the
    notifications about those events. Runs inside the caller's transaction; returns the ids
    of those events."""
    attendances = Attendee.objects.filter(user__isnull=True, guest_url=url)
    event_ids = list(attendances.values_list("event_id", flat=True))
    attendances.delete()
    Event.objects.filter(pk__in=event_ids).update(
        title=f"Meeting {ERASED}", description="", location=""
    )
    Notification.objects.filter(event_id__in=event_ids).update(title=f"Meeting {ERASED}", body="")
    return event_ids
