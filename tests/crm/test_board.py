import re

import pytest
from django.urls import reverse

from crm.selectors import pipeline_board
from integrations.deal_closing import deal_close
from tests.crm.factories import DealFactory, PipelineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _totals(html):
    """{stage name: (count text, total text)} as a person reads the board."""
    return {
        name: (count, total)
        for name, count, total in re.findall(
            r'<h2 id="stage-[^"]+">(\w+) <span.*?'
            r'<span class="deal-count">([^<]+)</span> · <span class="stage-total">([^<]+)</span>',
            html,
            re.S,
        )
    }


@pytest.fixture
def board_deals(pipeline, stages, rep):
    DealFactory(pipeline=pipeline, owner=rep, title="A", value_cents=150_000)
    DealFactory(pipeline=pipeline, owner=rep, title="B", value_cents=25_050)
    DealFactory(pipeline=pipeline, owner=rep, title="C", stage=stages["Proposal"], value_cents=1)
    won = DealFactory(pipeline=pipeline, owner=rep, title="Closed", value_cents=999_999)
    deal_close(actor=rep, deal=won, won=True)
    DealFactory(pipeline=PipelineFactory(team=pipeline.team), owner=rep, title="Elsewhere")


def test_board_shows_open_stages_with_count_and_total_in_the_pipeline_currency(
    rep_client, pipeline, board_deals
):
    page = rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk])).text
    assert _totals(page) == {
        "Lead": ("2 deals", "€1,750.50"),
        "Proposal": ("1 deal", "€0.01"),
        "Negotiation": ("0 deals", "€0.00"),
    }
    assert ">A</a>" in page
    assert "Closed" not in page
    assert "Elsewhere" not in page


def test_moving_a_deal_with_htmx_answers_the_board_with_new_totals(
    rep_client, pipeline, stages, board_deals
):
    deal = pipeline.deals.get(title="A")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Negotiation"].pk}, **HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="board"')
    assert "Moved A to Negotiation." in response.text
    assert _totals(response.text) == {
        "Lead": ("1 deal", "€250.50"),
        "Proposal": ("1 deal", "€0.01"),
        "Negotiation": ("1 deal", "€1,500.00"),
    }
    deal.refresh_from_db()
    assert deal.stage == stages["Negotiation"]


def test_moving_a_closed_deal_on_the_board_is_refused_in_place(
    rep_client, pipeline, stages, board_deals
):
    deal = pipeline.deals.get(title="Closed")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Lead"].pk}, **HTMX
    )
    assert response.status_code == 200
    assert "This deal is already closed as won." in response.text
    deal.refresh_from_db()
    assert deal.stage == stages["Won"]


def test_moving_to_a_stage_of_another_pipeline_is_refused(rep_client, pipeline, board_deals):
    deal = pipeline.deals.get(title="A")
    other_stage = PipelineFactory(team=pipeline.team).stages.get(name="Proposal")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": other_stage.pk}, **HTMX
    )
    assert "Choose an open stage of this deal&#x27;s pipeline." in response.text
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_each_card_offers_the_keyboard_move_form(rep_client, pipeline, stages, board_deals):
    page = rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk])).text
    deal = pipeline.deals.get(title="C")
    assert f'<label for="move-{deal.pk}" class="visually-hidden">Move C to</label>' in page
    assert f'<option value="{stages["Proposal"].pk}" selected>Proposal</option>' in page
    assert f'<option value="{stages["Won"].pk}"' not in page


def test_a_busy_stage_shows_its_newest_cards_and_counts_all(pipeline, rep):
    DealFactory.create_batch(4, pipeline=pipeline, owner=rep)
    lead = pipeline_board(pipeline=pipeline, cards_per_stage=3)[0]
    assert (lead.deal_count, len(lead.deals), lead.hidden_count) == (4, 3, 1)


def test_pipeline_list_shows_open_deals_and_value(rep_client, pipeline, board_deals):
    page = rep_client.get(reverse("crm:pipeline_list")).text
    assert re.search(r">Sales</a></th>\s*<td>North</td>\s*<td class=\"number\">3</td>", page)
    assert "€1,750.51" in page


def test_empty_pipelines_and_boards_say_so(rep_client, pipeline):
    assert (
        "No open deals." in rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk])).text
    )
    pipeline.deals.all().delete()
    pipeline.stages.all().delete()
    pipeline.delete()
    assert "Your teams have no pipeline yet." in rep_client.get(reverse("crm:pipeline_list")).text
