"""The wellness insights tab: consenting members only, groups of 5 or more, no differencing,
recommendations for their owner only."""

import datetime
import json
import re

import pytest
from django.urls import reverse

from calendar_app.models import EventStatus
from coop.consent import consent_revoke
from coop.models import ConsentScope
from health.insights import pearson, recommendations_for, team_insights
from health.models import SalesHealthMetric
from health.services import today_for
from tests.calendar_app.factories import EventFactory
from tests.coop.factories import MembershipFactory, TeamFactory
from tests.crm.factories import ContactFactory, InteractionFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def metric(user, day, stress, conversion=0.5, velocity=1.0, interactions=0):
    return SalesHealthMetric.objects.create(
        user=user,
        date=day,
        stress_level=stress,
        interaction_count=interactions,
        deal_velocity=velocity,
        conversion_rate=conversion,
    )


def test_pearson_matches_a_hand_computed_value():
    # mean x 3, mean y 4; sum dx*dy = 6, sum dx^2 = 10, sum dy^2 = 6 -> r = 6 / sqrt(60)
    assert pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]) == pytest.approx(0.7745966692)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_pearson_is_undefined_for_too_few_points_or_no_variation():
    assert pearson([1, 2], [1, 2]) is None
    assert pearson([1, 2, 3], [5, 5, 5]) is None


def test_the_tab_shows_r_and_n_of_the_consenting_group(client, insights_group, rep):
    day = today_for(rep) - datetime.timedelta(days=1)
    for user, stress, conversion in zip(
        insights_group, [10, 20, 30, 40, 50], [0.2, 0.4, 0.5, 0.4, 0.5], strict=True
    ):
        metric(user, day, stress, conversion)
    metric(insights_group[0], day - datetime.timedelta(days=1), 90, conversion=0, velocity=0)
    client.force_login(rep)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert "Pearson's r = <strong>0.77</strong>, n = <strong>5</strong> days of 5 people" in page
    assert "a strong positive relationship" in page
    points = json.loads(re.search(r'type="application/json">(.*?)</script>', page).group(1))
    assert sorted(point["x"] for point in points) == [10, 20, 30, 40, 50]


def test_a_group_under_five_is_not_shown_and_says_why(client, team_of, allow, rep):
    members = team_of(4)
    for user in [*members[:3], rep]:
        allow(user, ConsentScope.TEAM_INSIGHTS)
        metric(user, today_for(user), 42)
    client.force_login(rep)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert "Not shown. Fewer than 5 members of this team take part" in page
    assert "heatmap" not in page
    assert ">42<" not in page


def test_a_group_of_five_is_shown_with_a_row_per_consenting_member(client, insights_group, rep):
    for user in insights_group:
        metric(user, today_for(user), 42)
    client.force_login(rep)
    page = client.get(reverse("health:insights"), **HTMX).text
    heatmap = page[page.index('class="data heatmap"') : page.index('class="performance"')]
    assert heatmap.count('<th scope="row">') == 5
    assert heatmap.count(">42<") == 5
    assert '<tr class="you"><th scope="row">You</th>' in heatmap
    for user in insights_group:
        assert user.username not in page


def test_members_who_did_not_consent_never_appear(client, insights_group, team_of, rep, manager):
    (refuser,) = team_of(1, prefix="refuser")
    for user in insights_group:
        metric(user, today_for(user), 42)
    metric(refuser, today_for(refuser), 97)  # a stray row: must not be shown anyway
    client.force_login(manager)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert ">97<" not in page
    assert page.count(">42<") == 5


def test_revoking_takes_the_member_out_of_the_insights_at_once(client, insights_group, rep):
    for user in insights_group:
        metric(user, today_for(user), 42)
    client.force_login(rep)
    assert "You take part" in client.get(reverse("health:insights"), **HTMX).text
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert "You do not take part" in page
    assert "Not shown. Fewer than 5 members" in page


def test_a_team_differing_by_fewer_than_five_people_from_another_is_not_shown(
    staff_user, insights_group, team, allow
):
    (extra,) = [MembershipFactory(team=team, user__username="extra").user]
    allow(extra, ConsentScope.TEAM_INSIGHTS)
    subset = TeamFactory(name="Subset")
    for user in insights_group:
        MembershipFactory(team=subset, user=user)
    result = {insight.team.name: insight for insight in team_insights(staff_user)}
    assert result["North"].shown
    assert not result["Subset"].shown
    assert "differ from another team shown here by fewer than 5" in result["Subset"].reason


def test_disjoint_teams_are_both_shown(staff_user, insights_group, allow):
    other = TeamFactory(name="West")
    for i in range(5):
        user = MembershipFactory(team=other, user__username=f"west{i}").user
        allow(user, ConsentScope.TEAM_INSIGHTS)
    assert all(insight.shown for insight in team_insights(staff_user))


def test_a_stress_band_with_fewer_than_five_people_is_suppressed(insights_group, rep):
    day = today_for(rep)
    for i, user in enumerate(insights_group):
        metric(user, day, 10)  # all five in band 0-19
        metric(user, day - datetime.timedelta(days=1), 90 if i == 0 else 50)
    (insight,) = team_insights(rep)
    bands = {band["label"]: band for band in insight.bands}
    assert bands["0 to 19"]["shown"]
    assert not bands["80 to 100"]["shown"]
    assert not bands["40 to 59"]["shown"]  # 4 people


def test_performance_rows_are_team_totals_per_day(insights_group, rep, team):
    contact = ContactFactory(team=team, owner=rep)
    InteractionFactory.create_batch(2, contact=contact, author=insights_group[1])
    InteractionFactory(contact=contact, author=rep)
    (insight,) = team_insights(rep)
    assert insight.performance[-1]["interactions"] == 3


def test_people_outside_the_team_see_nothing_of_it(client, insights_group, outsider):
    client.force_login(outsider)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert "North" not in page


def test_the_fragment_is_a_fragment_and_the_page_a_page(rep_client):
    fragment = rep_client.get(reverse("health:insights"), **HTMX).text
    assert "<html" not in fragment
    assert 'class="insights"' in fragment
    page = rep_client.get(reverse("health:insights")).text
    assert "<html" in page and 'class="insights"' in page


def test_dashboard_offers_the_tab_loaded_when_opened(rep_client):
    page = rep_client.get(reverse("dashboard")).text
    assert 'hx-get="/wellness/insights/"' in page
    assert 'hx-trigger="click once"' in page
    assert "take part" not in page


# Recommendations


def test_sustained_high_stress_is_recommended_on_three_high_check_ins(rep, check_in):
    today = today_for(rep)
    for offset, stress in enumerate([70, 85, 72]):
        check_in(rep, day=today - datetime.timedelta(days=offset), stress=stress)
    assert [r.rule for r in recommendations_for(rep)] == ["sustained-stress"]


def test_one_check_in_under_seventy_breaks_the_run(rep, check_in):
    today = today_for(rep)
    for offset, stress in enumerate([90, 69, 90]):
        check_in(rep, day=today - datetime.timedelta(days=offset), stress=stress)
    assert recommendations_for(rep) == []


def test_an_interaction_spike_while_stress_rises_is_recommended(rep, team, check_in):
    today = today_for(rep)
    contact = ContactFactory(team=team, owner=rep)
    for weeks_ago in range(1, 5):  # 2 a week in the four weeks before
        for _ in range(2):
            when = today - datetime.timedelta(days=7 * weeks_ago + 1)
            InteractionFactory(
                contact=contact,
                author=rep,
                timestamp=datetime.datetime.combine(when, datetime.time(12), tzinfo=rep.zone),
            )
    InteractionFactory.create_batch(4, contact=contact, author=rep)  # 4 > 1.5 * 2 this week
    check_in(rep, day=today - datetime.timedelta(days=14), stress=30)
    check_in(rep, day=today, stress=50)
    assert [r.rule for r in recommendations_for(rep)] == ["interaction-spike"]
    check_in(rep, day=today - datetime.timedelta(days=20), stress=60)  # mean before: 45 < 50
    assert [r.rule for r in recommendations_for(rep)] == ["interaction-spike"]
    check_in(rep, day=today - datetime.timedelta(days=21), stress=100)  # before: 63 > 50
    assert recommendations_for(rep) == []


def test_recommendations_only_with_consent_and_only_to_their_owner(
    client, rep, manager, check_in, allow
):
    today = today_for(rep)
    for offset in range(3):
        check_in(rep, day=today - datetime.timedelta(days=offset), stress=90)
    client.force_login(rep)
    page = client.get(reverse("health:insights"), **HTMX).text
    assert "Personal recommendations are off." in page
    assert "Your stress has stayed high" not in page
    allow(rep, ConsentScope.PERSONAL_RECOMMENDATIONS)
    assert "Your stress has stayed high" in client.get(reverse("health:insights"), **HTMX).text
    allow(manager, ConsentScope.PERSONAL_RECOMMENDATIONS)
    client.force_login(manager)
    assert "Your stress has stayed high" not in client.get(reverse("health:insights"), **HTMX).text


def test_the_tab_needs_the_same_queries_for_five_or_ten_members(
    client, insights_group, team_of, allow, rep, django_assert_max_num_queries
):
    for user in insights_group:
        metric(user, today_for(user), 42)
    client.force_login(rep)
    with django_assert_max_num_queries(11) as five:
        client.get(reverse("health:insights"), **HTMX)
    for user in team_of(5, prefix="more"):
        allow(user, ConsentScope.TEAM_INSIGHTS)
        metric(user, today_for(user), 42)
    with django_assert_max_num_queries(len(five.captured_queries)):
        client.get(reverse("health:insights"), **HTMX)


def _meetings(organizer, day, starts_and_ends, status=EventStatus.CONFIRMED):
    for start, end in starts_and_ends:
        EventFactory(
            organizer=organizer,
            status=status,
            start_time=datetime.datetime.combine(day, start, organizer.zone),
            end_time=datetime.datetime.combine(day, end, organizer.zone),
        )


T = datetime.time


def test_three_meetings_back_to_back_are_recommended_a_break(rep):
    day = today_for(rep) + datetime.timedelta(days=2)
    _meetings(rep, day, [(T(9), T(10)), (T(10, 5), T(11)), (T(11), T(12))])
    found = recommendations_for(rep)
    assert [r.rule for r in found] == ["back-to-back"]
    assert day.strftime("%a %-d %b") in found[0].text


def test_a_ten_minute_break_or_a_cancelled_meeting_breaks_the_chain(rep):
    day = today_for(rep) + datetime.timedelta(days=1)
    _meetings(rep, day, [(T(9), T(10)), (T(10, 10), T(11)), (T(11, 5), T(12))])
    _meetings(rep, day, [(T(12), T(13))], status=EventStatus.CANCELLED)
    assert recommendations_for(rep) == []


def test_meetings_beyond_a_week_away_do_not_count(rep):
    day = today_for(rep) + datetime.timedelta(days=10)
    _meetings(rep, day, [(T(9), T(10)), (T(10), T(11)), (T(11), T(12))])
    assert recommendations_for(rep) == []
