"""Guests' replies to emailed invitations (iTIP METHOD:REPLY) set their RSVP."""

from email.message import EmailMessage
from io import StringIO

import icalendar
import pytest
from django.core.management import CommandError, call_command

from calendar_app.models import Attendee, Rsvp
from tests.calendar_app.factories import AttendeeFactory, EventFactory

pytestmark = pytest.mark.django_db


def _reply(event, email: str, partstat: str, sequence: int = 0, method: str = "REPLY") -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Guest's program//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    component = icalendar.Event()
    component.add("uid", f"{event.pk}@coop-crm")
    component.add("sequence", sequence)
    component.add("dtstamp", event.start_time)
    attendee = icalendar.vCalAddress(f"mailto:{email}")
    attendee.params["PARTSTAT"] = partstat
    component.add("attendee", attendee)
    calendar.add_component(component)
    return calendar.to_ical()


def _email_with(ical: bytes) -> bytes:
    message = EmailMessage()
    message["Subject"] = "Accepted: Roof survey"
    message["From"] = "olga@sun.example"
    message.set_content("Olga has accepted.")
    message.add_attachment(ical, maintype="text", subtype="calendar", filename="reply.ics")
    return message.as_bytes()


@pytest.fixture
def guest():
    event = EventFactory()
    return AttendeeFactory(event=event, guest_name="Olga", guest_email="Olga@Sun.example")


def test_an_emailed_acceptance_sets_the_guests_rsvp(guest, tmp_path):
    path = tmp_path / "reply.eml"
    path.write_bytes(_email_with(_reply(guest.event, "olga@sun.example", "ACCEPTED")))
    out = StringIO()
    call_command("import_invitation_reply", str(path), stdout=out)
    assert "1 reply recorded." in out.getvalue()
    assert Attendee.objects.get(pk=guest.pk).rsvp == Rsvp.ACCEPTED


def test_a_reply_to_a_time_that_has_since_changed_is_ignored(guest, tmp_path):
    guest.event.sequence = 2
    guest.event.save(update_fields=["sequence"])
    path = tmp_path / "reply.ics"
    path.write_bytes(_reply(guest.event, "olga@sun.example", "DECLINED", sequence=1))
    call_command("import_invitation_reply", str(path), stdout=StringIO())
    assert Attendee.objects.get(pk=guest.pk).rsvp == Rsvp.NEEDS_ACTION


def test_a_document_that_is_not_a_reply_is_refused(guest, tmp_path):
    path = tmp_path / "request.ics"
    path.write_bytes(_reply(guest.event, "olga@sun.example", "ACCEPTED", method="REQUEST"))
    with pytest.raises(CommandError, match="not a reply"):
        call_command("import_invitation_reply", str(path), stdout=StringIO())
    assert Attendee.objects.get(pk=guest.pk).rsvp == Rsvp.NEEDS_ACTION
