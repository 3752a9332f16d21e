"""Meetings follow the CRM's visibility rule (issue 14, point 3): a meeting about a contact is
shown in detail only to the members of the contact's team and to the people at the meeting;
a manager who may see the organizer's calendar but not the contact's team sees a busy block."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coop.models import Role
from crm.meeting_scheduling import meeting_schedule
from tests.coop.factories import MembershipFactory
from tests.crm.factories import ContactFactory

pytestmark = pytest.mark.django_db

START = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)


@pytest.fixture
def two_team_rep(rep, other_team):
    """`rep` is in team North (managed by `manager`) and also in team South."""
    MembershipFactory(user=rep, team=other_team, role=Role.REP)
    return rep


@pytest.fixture
def south_meeting(two_team_rep, other_team):
    contact = ContactFactory(team=other_team, name="Sol Ortega", email="sol@south.example")
    return meeting_schedule(
        organizer=two_team_rep,
        contact=contact,
        title="Secret South pricing",
        description="Discount floor 12 %",
        start_time=START,
        end_time=START + datetime.timedelta(hours=1),
    ).calendar_event


def _week(client, person):
    return client.get(
        reverse("crm:calendar"),
        {"view": "week", "date": START.date().isoformat(), "who": str(person.pk)},
    ).text


def test_the_manager_of_another_team_cannot_open_the_meeting(client, manager, south_meeting):
    client.force_login(manager)
    response = client.get(reverse("calendar_app:event_detail", args=[south_meeting.pk]))
    assert response.status_code == 404


def test_the_manager_sees_a_busy_block_without_title_or_attendees(
    client, manager, two_team_rep, south_meeting
):
    client.force_login(manager)
    page = _week(client, two_team_rep)
    assert "Busy" in page
    assert "Secret South pricing" not in page
    assert "Sol Ortega" not in page
    assert str(south_meeting.pk) not in page


def test_a_member_of_the_contacts_team_sees_the_meeting(client, other_team, south_meeting):
    colleague = MembershipFactory(team=other_team, role=Role.MANAGER).user
    client.force_login(colleague)
    response = client.get(reverse("calendar_app:event_detail", args=[south_meeting.pk]))
    assert response.status_code == 200
    assert "Sol Ortega" in response.text


def test_the_organizer_sees_the_meeting_in_full(client, two_team_rep, south_meeting):
    client.force_login(two_team_rep)
    assert "Secret South pricing" in _week(client, two_team_rep)
    response = client.get(reverse("calendar_app:event_detail", args=[south_meeting.pk]))
    assert response.status_code == 200


def test_a_meeting_belongs_to_the_contacts_team(south_meeting, other_team):
    assert south_meeting.team == other_team
    guest = south_meeting.attendees.get(user__isnull=True)
    assert (guest.guest_name, guest.guest_email) == ("Sol Ortega", "sol@south.example")
