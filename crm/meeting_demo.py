"""Demo meetings: a few past, upcoming and cancelled meetings of the demo people with contacts
of the demo team (those `crm.demo` loads), scheduled through
`crm.meeting_scheduling.meeting_schedule`.
Idempotent: a meeting is identified by its organizer and title."""

import datetime
import random
import uuid
from collections.abc import Callable
from itertools import islice

from django.db import transaction
from django.utils import timezone

from calendar_app.grid import local_datetime
from calendar_app.models import Attendee, Event
from coop.demo import DEMO_TEAM, benchmark_scale, seed_core
from coop.models import User
from crm.demo import demo_id
from crm.meeting_scheduling import meeting_cancel, meeting_schedule
from crm.models import Contact, Interaction

CONTACTS_USED = 3

# organizer, contact index, title, days from today, local hour, minutes, location, cancelled
DEMO_MEETINGS = [
    ("rafael", 0, "Kick-off: community solar roof", 1, 10, 60, "Their office", False),
    ("rafael", 1, "Tasting and price list", 3, 14, 45, "Their shop", False),
    ("rafael", 2, "Print run review", -4, 11, 30, "Video call", False),
    ("rafael", 1, "Lunch with the bakers", 6, 12, 60, "Café Central", True),
    ("maria", 0, "Contract negotiation", 2, 9, 90, "Head office", False),
    ("sana", 2, "Design workshop", 4, 15, 60, "Their studio", False),
]


def seed_meetings() -> int:
    """Schedule the demo meetings that are missing, each in its own transaction; return how
    many were new (none when the demo team has fewer than three contacts with an email
    address)."""
    team, users, _ = seed_core()
    people = {user.username: user for user in users}
    contacts = list(
        Contact.objects.filter(team=team).exclude(email="").order_by("name", "id")[:CONTACTS_USED]
    )
    if len(contacts) < CONTACTS_USED:
        return 0
    today = timezone.localdate()
    created = 0
    for username, index, title, days, hour, minutes, location, cancelled in DEMO_MEETINGS:
        organizer = people[username]
        if Event.objects.filter(organizer=organizer, title=title).exists():
            continue
        start = local_datetime(
            today + datetime.timedelta(days=days), datetime.time(hour), organizer.zone
        )
        interaction: Interaction = meeting_schedule(
            organizer=organizer,
            contact=contacts[index],
            title=title,
            start_time=start,
            end_time=start + datetime.timedelta(minutes=minutes),
            location=location,
            allow_conflicts=True,
        )
        if cancelled:
            meeting_cancel(actor=organizer, interaction=interaction)
        created += 1
    return created


# `seed_demo --scale large`: 50,000 meetings over the past and the coming half year, a few
# a day for everyone in a team, and `SCALE_BUSY_SHARE` of them organized by the busy rep.
SCALE_EVENTS = 50_000
SCALE_BUSY_USER = "rafael"
SCALE_BUSY_SHARE = 0.05
SCALE_BATCH = 5_000
SCALE_TITLES = ["Discovery call", "Demo", "Pricing review", "Site visit", "Team sync"]


def _scale_events(organizers: list[User], busy: User, contacts: int, today: datetime.date):
    """Each meeting with one demo contact as its guest; the event belongs to the contact's team
    (the visibility rule of `calendar_app.selectors.events_visible_to`)."""
    rng = random.Random("2026:events")  # noqa: S311 (demo data)
    known = {
        pk: (name, email, team_id)
        for pk, name, email, team_id in Contact.objects.values_list("pk", "name", "email", "team")
    }
    for i in range(SCALE_EVENTS):
        organizer = busy if rng.random() < SCALE_BUSY_SHARE else rng.choice(organizers)
        day = today + datetime.timedelta(days=rng.randint(-182, 182))
        start = local_datetime(day, datetime.time(rng.randint(8, 17)), organizer.zone)
        guest = known.get(demo_id("contact", rng.randrange(contacts))) if contacts else None
        event = Event(
            id=demo_id("event", i),
            team_id=guest[2] if guest else None,
            organizer=organizer,
            title=rng.choice(SCALE_TITLES),
            location="Video call",
            start_time=start,
            end_time=start + datetime.timedelta(minutes=rng.choice([30, 45, 60])),
        )
        attendee = (
            Attendee(
                id=uuid.uuid5(event.id, "contact"),
                event=event,
                guest_name=guest[0],
                guest_email=guest[1],
            )
            if guest
            else None
        )
        yield event, attendee


def seed_scale_events(contacts: int, log: Callable[[str], None]) -> int:
    """Bulk-insert the large scale's meetings (each with one CRM contact invited when there
    are contacts) in committed batches; idempotent by their derived ids."""
    if Event.objects.filter(pk=demo_id("event", SCALE_EVENTS - 1)).exists():
        return 0
    organizers = list(User.objects.filter(memberships__isnull=False).order_by("username"))
    busy = next(user for user in organizers if user.username == SCALE_BUSY_USER)
    in_demo_team = set(
        User.objects.filter(memberships__team__name=DEMO_TEAM).values_list("pk", flat=True)
    )
    rows = _scale_events(organizers, busy, contacts, timezone.localdate())
    before, done = Event.objects.count(), 0
    while batch := list(islice(rows, SCALE_BATCH)):
        with transaction.atomic():
            Event.objects.bulk_create([event for event, _ in batch], ignore_conflicts=True)
            Attendee.objects.bulk_create(
                [
                    attendee
                    for event, attendee in batch
                    if attendee is not None and event.organizer_id in in_demo_team
                ],
                ignore_conflicts=True,
            )
        done += len(batch)
        if done % (SCALE_EVENTS // 5) == 0:
            log(f"  events: {done:,} / {SCALE_EVENTS:,} ({100 * done // SCALE_EVENTS} %)")
    return Event.objects.count() - before


def seed(*, options: dict, log: Callable[[str], None]) -> None:
    created = seed_meetings()
    log(f"Demo meetings: {created} new, {len(DEMO_MEETINGS)} in all.")
    if benchmark_scale(options):
        log(f"Large scale: {seed_scale_events(options['contacts'], log):,} new meeting(s).")
