import pytest
from django.core.management import call_command

from calendar_app.demo import DEMO_MEETINGS
from calendar_app.models import Event, EventStatus
from crm.models import Interaction, InteractionType

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_meetings_linked_to_the_timeline_once(capsys):
    call_command("seed_demo")
    assert Event.objects.count() == len(DEMO_MEETINGS)
    assert Event.objects.filter(status=EventStatus.CANCELLED).count() == 1
    assert Interaction.objects.filter(
        interaction_type=InteractionType.CALENDAR_EVENT, calendar_event__isnull=False
    ).count() == len(DEMO_MEETINGS)
    assert f"Demo meetings: {len(DEMO_MEETINGS)} new" in capsys.readouterr().out
    call_command("seed_demo")
    assert Event.objects.count() == len(DEMO_MEETINGS)
    assert "Demo meetings: 0 new" in capsys.readouterr().out
