import datetime
import re

import pytest
from django.urls import reverse

from crm.board import BoardFilter, column_cards
from integrations.deal_closing import deal_close
from tests.coop.factories import MembershipFactory
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    PipelineFactory,
    TagFactory,
)

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


def test_moving_a_deal_with_htmx_answers_its_card_and_every_column_total(
    rep_client, pipeline, stages, board_deals
):
    deal = pipeline.deals.get(title="A")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Negotiation"].pk}, **HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(
        f'<li class="deal-card" draggable="true" '
        f'data-deal="{deal.pk}" '
        f'data-stage="{stages["Negotiation"].pk}"'
    )
    assert 'data-moved="true"' in response.text
    assert "Moved A to Negotiation." in response.text
    assert response.text.count('hx-swap-oob="true"') == 3 + 2
    assert _totals_by_id(response.text, stages) == {
        "Lead": ("1 deal", "€250.50"),
        "Proposal": ("1 deal", "€0.01"),
        "Negotiation": ("1 deal", "€1,500.00"),
    }
    deal.refresh_from_db()
    assert deal.stage == stages["Negotiation"]


def test_a_move_counts_under_the_board_filter_it_sends_along(
    rep_client, pipeline, stages, board_deals
):
    deal = pipeline.deals.get(title="A")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]),
        {"stage": stages["Proposal"].pk, "q": "B"},
        **HTMX,
    )
    assert _totals_by_id(response.text, stages) == {
        "Lead": ("1 deal", "€250.50"),
        "Proposal": ("0 deals", "€0.00"),
        "Negotiation": ("0 deals", "€0.00"),
    }


def _totals_by_id(html, stages):
    """{stage name: (count text, total text)} of the out-of-band totals of a move's answer."""
    names = {str(stage.pk): name for name, stage in stages.items()}
    return {
        names[pk]: (count, total)
        for pk, count, total in re.findall(
            r'<p class="column-totals" id="totals-([^"]+)" hx-swap-oob="true">'
            r'<span class="deal-count">([^<]+)</span> · <span class="stage-total">([^<]+)</span>',
            html,
        )
    }


def test_moving_a_closed_deal_on_the_board_is_refused_in_place(
    rep_client, pipeline, stages, board_deals
):
    deal = pipeline.deals.get(title="Closed")
    response = rep_client.post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Lead"].pk}, **HTMX
    )
    assert response.status_code == 200
    assert "This deal is already closed as won." in response.text
    assert "data-moved" not in response.text
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


def _cards(html):
    return re.findall(r'<a class="deal-title" href="/deals/[^"]+/">([^<]+)</a>', html)


def _more_url(html):
    found = re.findall(r'<li class="more-cards" hx-get="([^"]+)"', html)
    return found[0].replace("&amp;", "&") if found else None


def _column_titles(client, url):
    """Every card title of a column, following its "more cards" requests to the end."""
    titles, requests = [], 0
    while url:
        page = client.get(url, **HTMX)
        assert page.status_code == 200
        titles += _cards(page.text)
        url, requests = _more_url(page.text), requests + 1
    return titles, requests


@pytest.fixture
def busy_lead(pipeline, rep):
    """60 open deals in Lead: close dates with ties, some undated, values with ties."""
    today = datetime.date(2027, 1, 1)
    for i in range(60):
        DealFactory(
            pipeline=pipeline,
            owner=rep,
            title=f"Deal {i:02d}",
            value_cents=1_000 * (i % 7),
            expected_close_date=None if i % 10 == 0 else today + datetime.timedelta(days=i % 5),
        )
    return pipeline.deals.all()


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("close", lambda deal: (deal.expected_close_date or datetime.date.max, str(deal.pk))),
        (
            "value",
            lambda deal: (-deal.value_cents, "".join(chr(255 - ord(c)) for c in str(deal.pk))),
        ),
    ],
)
def test_a_column_pages_through_every_card_once_in_the_chosen_order(
    rep_client, pipeline, busy_lead, sort, key
):
    page = rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk]), {"sort": sort}).text
    first = _cards(page)
    assert len(first) == 25
    rest, requests = _column_titles(rep_client, _more_url(page))
    assert requests == 2
    expected = [deal.title for deal in sorted(busy_lead, key=key)]
    assert first + rest == expected
    assert f'<option value="{sort}" selected>' in page


def test_the_board_filter_narrows_every_column_count_and_total(
    rep_client, pipeline, stages, rep, team
):
    colleague = MembershipFactory(team=team, user__username="colleague").user
    acme = OrganizationFactory(team=team, name="Acme Cooperative")
    buyer = ContactFactory(team=team, owner=rep, name="Wanda Buyer", organization=acme)
    urgent = TagFactory(team=team, name="Urgent")
    DealFactory(pipeline=pipeline, owner=rep, title="Roof", value_cents=100)
    DealFactory(pipeline=pipeline, owner=colleague, title="Boiler", value_cents=200)
    tagged = DealFactory(
        pipeline=pipeline,
        owner=rep,
        title="Windows",
        value_cents=400,
        contact=buyer,
        stage=stages["Proposal"],
    )
    tagged.tags.add(urgent)
    url = reverse("crm:pipeline_board", args=[pipeline.pk])
    mine = rep_client.get(url, {"owner": rep.pk}).text
    assert _totals(mine) == {
        "Lead": ("1 deal", "€1.00"),
        "Proposal": ("1 deal", "€4.00"),
        "Negotiation": ("0 deals", "€0.00"),
    }
    assert _cards(mine) == ["Roof", "Windows"]
    for text in ["acme", "wanda", "windows"]:
        found = rep_client.get(url, {"q": text}).text
        assert _cards(found) == ["Windows"], text
        assert found.count("No open deal matches the filter.") == 2
    by_tag = rep_client.get(url, {"tag": "urgent", "owner": rep.pk}).text
    assert _totals(by_tag)["Proposal"] == ("1 deal", "€4.00")
    assert _totals(by_tag)["Lead"] == ("0 deals", "€0.00")
    partial = rep_client.get(url, {"q": "boiler"}, **HTMX).text
    assert partial.lstrip().startswith('<div id="board"')
    assert _cards(partial) == ["Boiler"]


def test_the_filter_and_order_follow_the_more_cards_requests(rep_client, pipeline, rep, busy_lead):
    url = reverse("crm:pipeline_board", args=[pipeline.pk])
    page = rep_client.get(url, {"q": "Deal 1", "sort": "value"}).text
    tens = busy_lead.filter(title__startswith="Deal 1")
    by_value = sorted(tens, key=lambda deal: (deal.value_cents, str(deal.pk)), reverse=True)
    assert _cards(page) == [deal.title for deal in by_value]
    assert _more_url(page) is None  # ten deals: one page
    page = rep_client.get(url, {"owner": rep.pk, "sort": "value"}).text
    more = _more_url(page)
    assert f"owner={rep.pk}" in more and "sort=value" in more and "after=" in more


def test_a_bad_filter_says_so_and_shows_the_whole_board(rep_client, pipeline, busy_lead):
    url = reverse("crm:pipeline_board", args=[pipeline.pk])
    page = rep_client.get(url, {"owner": "not-a-person", "sort": "random"})
    assert page.status_code == 200
    assert 'role="alert"' in page.text
    assert _totals(page.text)["Lead"] == ("60 deals", "€1,740.00")


def test_more_cards_refuse_a_cursor_that_is_not_a_card_place(rep_client, pipeline, stages):
    url = reverse("crm:pipeline_column", args=[pipeline.pk, stages["Lead"].pk])
    for after in [
        "yesterday.1",
        "2027-01-01.nope",
        "x" * 300,
        "-5.00000000-0000-0000-0000-000000000000",
    ]:
        response = rep_client.get(url, {"after": after, "sort": "value"}, **HTMX)
        assert response.status_code == 400, after
        assert "reload the board" in response.text


def test_more_cards_only_of_a_visible_pipeline_and_its_open_stages(
    client, rep_client, outsider, pipeline, stages, busy_lead
):
    client.force_login(outsider)
    lead = reverse("crm:pipeline_column", args=[pipeline.pk, stages["Lead"].pk])
    assert client.get(lead, **HTMX).status_code == 404
    won = reverse("crm:pipeline_column", args=[pipeline.pk, stages["Won"].pk])
    assert rep_client.get(won, **HTMX).status_code == 404
    other = PipelineFactory(team=pipeline.team).stages.get(name="Lead")
    elsewhere = reverse("crm:pipeline_column", args=[pipeline.pk, other.pk])
    assert rep_client.get(elsewhere, **HTMX).status_code == 404


def test_show_more_without_javascript_is_a_page_of_the_column(
    rep_client, pipeline, stages, busy_lead
):
    page = rep_client.get(reverse("crm:pipeline_board", args=[pipeline.pk])).text
    more = re.findall(r'<li class="more-cards"[^>]*>\s*<a href="([^"]+)">Show more</a>', page)
    assert len(more) == 1
    column = rep_client.get(more[0].replace("&amp;", "&"))
    assert column.status_code == 200
    assert "<h1>Lead" in column.text
    assert len(_cards(column.text)) == 25
    assert "Show more" in column.text
    assert column.headers["Vary"].count("HX-Request") == 1


def test_column_cards_of_a_filter_are_paged_by_the_selector(pipeline, stages, busy_lead):
    lead = stages["Lead"]
    board_filter = BoardFilter(text="Deal 5")
    first, after = column_cards(
        pipeline=pipeline, stage=lead, board_filter=board_filter, per_page=4
    )
    second, last = column_cards(
        pipeline=pipeline, stage=lead, board_filter=board_filter, after=after, per_page=4
    )
    third, end = column_cards(
        pipeline=pipeline, stage=lead, board_filter=board_filter, after=last, per_page=4
    )
    titles = [deal.title for deal in first + second + third]
    assert sorted(titles) == [f"Deal {i}" for i in range(50, 60)]
    assert (len(first), len(second), len(third), end) == (4, 4, 2, "")
