import pytest
from django.core.management import call_command

from calendar_app.models import Event, EventStatus
from crm.meeting_demo import DEMO_MEETINGS
from crm.models import Interaction, InteractionType

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_on")]

SMALL = {"contacts": 10, "deals": 5, "interactions": 10}


def test_seed_demo_adds_meetings_linked_to_the_timeline_once(capsys):
    call_command("seed_demo", **SMALL)
    assert Event.objects.count() == len(DEMO_MEETINGS)
    assert Event.objects.filter(status=EventStatus.CANCELLED).count() == 1
    assert Interaction.objects.filter(
        interaction_type=InteractionType.CALENDAR_EVENT, calendar_event__isnull=False
    ).count() == len(DEMO_MEETINGS)
    assert f"Demo meetings: {len(DEMO_MEETINGS)} new" in capsys.readouterr().out
    call_command("seed_demo", **SMALL)
    assert Event.objects.count() == len(DEMO_MEETINGS)
    assert "Demo meetings: 0 new" in capsys.readouterr().out


def test_without_demo_contacts_no_meeting_is_seeded(capsys):
    call_command("seed_demo", contacts=0, deals=0, interactions=0)
    assert not Event.objects.exists()
    assert "Demo meetings: 0 new" in capsys.readouterr().out
