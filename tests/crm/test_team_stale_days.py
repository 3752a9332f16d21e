"""A team's managers set after how many days without activity "My day" lists a deal as
stale: through a service, audited, 1 to 365 days."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.pipeline_settings import team_stale_deal_days_set

pytestmark = pytest.mark.django_db


def _url(team):
    return reverse("crm:team_stale_days", args=[team.pk])


def test_a_manager_changes_the_threshold_and_it_is_audited(client, manager, team):
    client.force_login(manager)
    assert 'value="14"' in client.get(_url(team)).content.decode()
    response = client.post(_url(team), {"stale_deal_days": "30"}, follow=True)
    team.refresh_from_db()
    assert team.stale_deal_days == 30
    assert "stale after 30 days" in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.PIPELINE_CHANGED)
    assert event.actor_id == manager.pk
    assert event.detail == {"change": "stale_deal_days", "from": 14, "to": 30}


def test_the_lost_reasons_page_links_to_it(client, manager, team):
    client.force_login(manager)
    html = client.get(reverse("crm:lost_reasons")).content.decode()
    assert _url(team) in html and "stale after 14 days" in html


@pytest.mark.parametrize("days", ["0", "366", "-3", "ten", "", "2.5"])
def test_a_number_out_of_range_is_refused_and_changes_nothing(client, manager, team, days):
    client.force_login(manager)
    response = client.post(_url(team), {"stale_deal_days": days})
    assert response.status_code == 400
    html = response.content.decode()
    assert "1 to 365 days without activity" in html or "as a whole number" in html
    team.refresh_from_db()
    assert team.stale_deal_days == 14
    assert not AuditEvent.objects.filter(action=AuditAction.PIPELINE_CHANGED).exists()


def test_a_rep_cannot_change_it(rep_client, rep, team):
    assert rep_client.get(_url(team)).status_code == 404
    assert rep_client.post(_url(team), {"stale_deal_days": "30"}).status_code == 404
    with pytest.raises(ValidationError):
        team_stale_deal_days_set(actor=rep, team=team, days=30)
    team.refresh_from_db()
    assert team.stale_deal_days == 14
