"""Demo meetings: a few past, upcoming and cancelled meetings of the demo people with contacts
of the demo team (those `crm.demo` loads), scheduled through `crm.services.meeting_schedule`.
Idempotent: a meeting is identified by its organizer and title."""

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from calendar_app.grid import local_datetime
from calendar_app.models import Event
from coop.demo import seed_core
from crm.models import Contact, Interaction
from crm.services import meeting_cancel, meeting_schedule

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


@transaction.atomic
def seed_meetings() -> int:
    """Schedule the demo meetings that are missing; return how many were new (none when the
    demo team has fewer than three contacts with an email address)."""
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


def seed(*, options: dict, log: Callable[[str], None]) -> None:
    created = seed_meetings()
    log(f"Demo meetings: {created} new, {len(DEMO_MEETINGS)} in all.")
