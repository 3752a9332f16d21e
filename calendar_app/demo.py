"""Demo meetings: a few past, upcoming and cancelled meetings of the demo people with contacts
of the demo team, scheduled through `crm.services.meeting_schedule`. Idempotent: a meeting
is identified by its organizer and title, and demo contacts by their name."""

import datetime
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from calendar_app.grid import local_datetime
from calendar_app.models import Event
from coop.demo import seed_core
from coop.models import User
from crm.models import Contact, Interaction
from crm.services import contact_create, meeting_cancel, meeting_schedule

DEMO_CONTACTS = [
    ("Ines Ibarra", "ines@solar-coop.example", "Solar Coop"),
    ("Jonas Jensen", "jonas@bakery.example", "Jensen Bakery"),
    ("Keiko Kato", "keiko@printshop.example", "Kato Print"),
]

# organizer, contact index, title, days from today, local hour, minutes, location, cancelled
DEMO_MEETINGS = [
    ("rafael", 0, "Kick-off: community solar roof", 1, 10, 60, "Solar Coop office", False),
    ("rafael", 1, "Tasting and price list", 3, 14, 45, "Jensen Bakery", False),
    ("rafael", 2, "Print run review", -4, 11, 30, "Video call", False),
    ("rafael", 1, "Lunch with the bakers", 6, 12, 60, "Café Central", True),
    ("maria", 0, "Contract negotiation", 2, 9, 90, "Head office", False),
    ("sana", 2, "Design workshop", 4, 15, 60, "Kato Print", False),
]


def _demo_contacts(actor: User, team) -> list[Contact]:
    contacts = []
    for name, email, organization in DEMO_CONTACTS:
        contact = Contact.objects.filter(team=team, name=name).first()
        if contact is None:
            contact = contact_create(
                actor=actor, team=team, name=name, email=email, organization_name=organization
            )
        contacts.append(contact)
    return contacts


@transaction.atomic
def seed_meetings() -> int:
    """Schedule the demo meetings that are missing; return how many were new."""
    team, users, _ = seed_core()
    people = {user.username: user for user in users}
    contacts = _demo_contacts(people["rafael"], team)
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
