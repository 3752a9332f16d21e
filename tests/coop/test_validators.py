"""Single-line text (coop/validators.py): refused by the validator, the services and the
admin's text boxes; text stored before the rule is made one line where it must be."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import Team
from coop.services import member_add
from coop.validators import one_line, require_single_line, validate_single_line
from crm.models import PipelineStage
from tests.crm.factories import PipelineFactory

REFUSED = [
    "Board\nBcc: everyone@example.com",
    "Board\r\nmeeting",
    "Board\rmeeting",
    "Tab\tseparated",
    "a\x00b",
    "escape\x1b[31m",
    "delete\x7f",
    "next line\x85(NEL)",
    "line\u2028separator",
    "paragraph\u2029separator",
]
ACCEPTED = ["", "Roof survey", "Café — Zürich, 3ᵉ étage", "😀 launch", "Ünïcødé \u202e\u200b"]


@pytest.mark.parametrize("value", REFUSED)
def test_control_characters_and_line_separators_are_refused(value):
    with pytest.raises(ValidationError, match="without line breaks, tabs"):
        validate_single_line(value)
    with pytest.raises(ValidationError, match="The job title must be one line"):
        require_single_line(name="Ada", job_title=value)


@pytest.mark.parametrize("value", ACCEPTED)
def test_one_line_text_passes(value):
    validate_single_line(value)
    require_single_line(title=value)


def test_services_ignore_the_whitespace_they_strip():
    require_single_line(title="  Roof survey\n")


def test_one_line_joins_what_was_stored_before_the_rule():
    assert one_line("Invitation: Board\r\nBcc: x@example.com\t\x00end") == (
        "Invitation: Board Bcc: x@example.com end"
    )


@pytest.mark.django_db
def test_add_member_refuses_a_team_name_on_two_lines():
    with pytest.raises(ValidationError, match="team name must be one line"):
        member_add(username="ada", team_name="East\nWest", role="rep", password="correct horse 42!")
    assert not Team.objects.filter(name__startswith="East").exists()


@pytest.mark.django_db
def test_the_admin_refuses_a_stage_name_with_a_line_break(client, staff_user, team):
    pipeline = PipelineFactory(team=team, name="Sales")
    stages = list(pipeline.stages.order_by("position"))
    client.force_login(staff_user)
    data = {
        "name": "Sales",
        "team": str(team.pk),
        "currency": pipeline.currency,
        "stages-TOTAL_FORMS": str(len(stages)),
        "stages-INITIAL_FORMS": str(len(stages)),
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    for index, stage in enumerate(stages):
        data |= {
            f"stages-{index}-id": str(stage.pk),
            f"stages-{index}-pipeline": str(pipeline.pk),
            f"stages-{index}-position": str(stage.position),
            f"stages-{index}-name": stage.name,
            f"stages-{index}-probability": str(stage.probability),
            f"stages-{index}-is_won": "on" if stage.is_won else "",
            f"stages-{index}-is_lost": "on" if stage.is_lost else "",
        }
    data["stages-0-name"] = "Lead\nBcc: x@example.com"
    response = client.post(reverse("admin:crm_pipeline_change", args=[pipeline.pk]), data)
    assert response.status_code == 200
    assert "without line breaks, tabs" in response.text
    assert not PipelineStage.objects.filter(name__contains="\n").exists()
    data["name"] = "Sales\tEast"
    data["stages-0-name"] = stages[0].name
    response = client.post(reverse("admin:crm_pipeline_change", args=[pipeline.pk]), data)
    assert "without line breaks, tabs" in response.text
    pipeline.refresh_from_db()
    assert pipeline.name == "Sales"
