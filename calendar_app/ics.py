"""iCalendar (RFC 5545 / iTIP RFC 5546) documents built with the `icalendar` library: the
invitation attached to emails (METHOD:REQUEST / METHOD:CANCEL) and each user's feed."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import icalendar

from calendar_app.models import Attendee, Event, EventStatus, Rsvp

PRODID = "-//Co-op CRM//Calendar//EN"
PARTSTAT = {
    Rsvp.NEEDS_ACTION: "NEEDS-ACTION",
    Rsvp.ACCEPTED: "ACCEPTED",
    Rsvp.DECLINED: "DECLINED",
    Rsvp.TENTATIVE: "TENTATIVE",
}


UID_SUFFIX = "@coop-crm"
RSVP_OF_PARTSTAT = {partstat: rsvp for rsvp, partstat in PARTSTAT.items()}


def event_uid(event: Event) -> str:
    return f"{event.pk}{UID_SUFFIX}"


def event_id_from_uid(uid: str) -> str | None:
    """The id of our event with that UID, or None for anyone else's."""
    if not uid.endswith(UID_SUFFIX):
        return None
    try:
        return str(uuid.UUID(uid.removesuffix(UID_SUFFIX)))
    except ValueError:
        return None


def attendee_partstats(component: icalendar.Event) -> dict[str, str]:
    """Each attendee's email address (lower case) → their PARTSTAT."""
    values = component.get("attendee", [])
    result = {}
    for address in values if isinstance(values, list) else [values]:
        email = str(address).split(":", 1)[-1].strip().lower()
        result[email] = str(address.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return result


def _address(name: str, email: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def _attendee_address(attendee: Attendee) -> icalendar.vCalAddress | None:
    email = attendee.guest_email if attendee.is_guest else attendee.user.email
    if not email:
        return None
    return _address(
        str(attendee),
        email,
        ROLE="REQ-PARTICIPANT",
        PARTSTAT=PARTSTAT[attendee.rsvp],
        RSVP="TRUE" if attendee.is_guest else "FALSE",
    )


def event_component(
    event: Event, attendees: Iterable[Attendee], *, cancelled: bool = False
) -> icalendar.Event:
    component = icalendar.Event()
    component.add("uid", event_uid(event))
    component.add("dtstamp", datetime.now(UTC))
    component.add("dtstart", event.start_time.astimezone(UTC))
    component.add("dtend", event.end_time.astimezone(UTC))
    component.add("summary", event.title)
    if event.description:
        component.add("description", event.description)
    if event.location:
        component.add("location", event.location)
    component.add("sequence", event.sequence)
    component.add(
        "status",
        "CANCELLED" if cancelled or event.status == EventStatus.CANCELLED else "CONFIRMED",
    )
    component.add("last-modified", event.updated_at.astimezone(UTC))
    organizer = event.organizer
    if organizer.email:
        component.add("organizer", _address(str(organizer), organizer.email))
    for attendee in attendees:
        address = _attendee_address(attendee)
        if address is not None:
            component.add("attendee", address)
    return component


def _calendar(method: str | None, name: str | None = None) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def invitation(event: Event, attendees: Iterable[Attendee], *, method: str) -> bytes:
    """An iTIP message for one event: METHOD:REQUEST (new or changed) or METHOD:CANCEL."""
    calendar = _calendar(method)
    calendar.add_component(event_component(event, attendees, cancelled=method == "CANCEL"))
    return calendar.to_ical()


def calendar_object(event: Event, attendees: Iterable[Attendee]) -> bytes:
    """The event as stored on a person's CalDAV calendar: no METHOD (RFC 4791 §4.1), the same
    UID and SEQUENCE as the invitations. SCHEDULE-AGENT=CLIENT on the organizer and attendees
    (RFC 6638 §7.1) tells a server that schedules by itself (Nextcloud, say) not to email
    invitations: the CRM sends its own."""
    calendar = _calendar(None)
    component = event_component(event, attendees)
    for name in ("organizer", "attendee"):
        values = component.get(name, [])
        for address in values if isinstance(values, list) else [values]:
            address.params["SCHEDULE-AGENT"] = "CLIENT"
    calendar.add_component(component)
    return calendar.to_ical()


def feed(name: str, events: Iterable[Event]) -> bytes:
    """A subscribable calendar of events (attendees must be prefetched)."""
    calendar = _calendar("PUBLISH", name)
    for event in events:
        calendar.add_component(event_component(event, event.attendees.all()))
    return calendar.to_ical()
