"""The wellness insights tab: weekly team figures of at least 5 contributors and nothing per
person, no backfill, one figure per team and week for good; members (or holders of the explicit
permission) only, every view audited; recommendations for their owner only."""

import datetime
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import EventStatus
from coop.consent import consent_revoke
from coop.models import AuditAction, AuditEvent, ConsentScope, Membership
from crm.models import Deal, DealStatus
from health.insights import pearson, recommendations_for, team_insights
from health.models import PublishedWeek, PublishedWeekContributor, SalesHealthMetric
from health.services import (
    PublishResult,
    ended_weeks,
    insights_publish,
    rollup_range,
    today_for,
    utc_today,
)
from tests.calendar_app.factories import EventFactory
from tests.coop.factories import MembershipFactory, TeamFactory, UserFactory
from tests.crm.factories import ContactFactory, DealFactory, InteractionFactory, PipelineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DAY = datetime.timedelta(days=1)


def metric(user, day, stress, conversion=0.5, velocity=1.0, interactions=0):
    SalesHealthMetric.objects.update_or_create(
        user=user,
        date=day,
        defaults={
            "stress_level": stress,
            "interaction_count": interactions,
            "deal_velocity": velocity,
            "conversion_rate": conversion,
        },
    )


def week_of(user, monday, stress, days=range(5)):
    """The user's rows of the week of `monday` at `stress`, Monday to Friday by default."""
    for offset in days:
        metric(user, monday + offset * DAY, stress)


def tab(client):
    return client.get(reverse("health:insights"), **HTMX).text


def cell_numbers(page):
    """Every number that stands alone in an element of the page: a table cell, a figure."""
    return [int(number) for number in re.findall(r">\s*(\d+)\s*<", page)]


def noon(day):
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def test_pearson_matches_a_hand_computed_value():
    # mean x 3, mean y 4; sum dx*dy = 6, sum dx^2 = 10, sum dy^2 = 6 -> r = 6 / sqrt(60)
    assert pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]) == pytest.approx(0.7745966692)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_pearson_is_undefined_for_too_few_points_or_no_variation():
    assert pearson([1, 2], [1, 2]) is None
    assert pearson([1, 2, 3], [5, 5, 5]) is None


# Issue 14, point 1: nothing traceable to one person


def test_with_exactly_four_contributors_nothing_of_theirs_is_shown(
    client, insights_group, manager, weeks
):
    # Five people allow team insights, but only four of them checked in that week.
    for user, stress in zip(insights_group[:4], [11, 23, 37, 52], strict=True):
        week_of(user, weeks[0], stress)
    assert insights_publish() == PublishResult(published=0, withheld=0)
    client.force_login(manager)
    page = tab(client)
    assert "Not shown. No week of the last 13 has figures for this team" in page
    assert not {11, 23, 37, 52, 31} & set(cell_numbers(page))  # their stress, their mean
    assert not PublishedWeek.objects.exists()


def test_with_one_contributor_left_changing_their_stress_changes_nothing(
    client, insights_group, manager, weeks
):
    for i, user in enumerate(insights_group):
        for monday in weeks[:2]:
            week_of(user, monday, 40 + i)
    assert insights_publish().published == 2
    client.force_login(manager)
    before = tab(client)
    assert ">42<" in before  # the mean of 40 to 44, both weeks
    last = insights_group[0]
    for user in insights_group[1:]:
        consent_revoke(user=user, scope=ConsentScope.TEAM_INSIGHTS)
    for stress in (0, 100):
        for monday in weeks[:3]:  # the published weeks and one that never was
            week_of(last, monday, stress)
        insights_publish()
        assert tab(client) == before


def test_no_persons_daily_series_appears_on_the_page(client, insights_group, manager, weeks):
    series = {}
    for i, user in enumerate(insights_group):
        # Days of 91+i and 41+i: no one's value is anyone else's, nor a weekly mean (70-74).
        series[user] = [41 + i if day % 2 else 91 + i for day in range(7)]
        for monday in weeks[:3]:
            for day, stress in enumerate(series[user]):
                metric(user, monday + day * DAY, stress)
    assert insights_publish().published == 3
    client.force_login(manager)
    page = tab(client)
    numbers = set(cell_numbers(page))
    assert 72 in numbers  # the team's mean
    for values in series.values():
        assert not set(values) & numbers
    assert "application/json" not in page  # no chart data of any kind
    assert "Member" not in page
    assert 'class="you"' not in page


def offered_pairs(page):
    """What an attacker can read as (stress, conversion) pairs: any chart points, and any two
    numbers in one table row."""
    pairs = []
    for data in re.findall(r'type="application/json">(.*?)</script>', page, re.S):
        pairs += [(point["x"], point["y"]) for point in json.loads(data)]
    for row in re.findall(r"<tr.*?</tr>", page, re.S):
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", re.sub(r"<[^>]+>", " ", row))]
        pairs += [(a, b) for a in numbers for b in numbers]
    return pairs


def stress_figures(page):
    """The figures the page offers as stress: coloured cells and chart points across."""
    figures = [int(n) for n in re.findall(r'class="number heat-\d">(\d+)<', page)]
    for data in re.findall(r'type="application/json">(.*?)</script>', page, re.S):
        figures += [point["x"] for point in json.loads(data)]
    return figures


def test_matching_conversions_worked_out_from_visible_deals_names_no_one(
    client, insights_group, manager, team, weeks, check_in
):
    monday = weeks[0]
    pipeline = PipelineFactory(team=team)
    stress = dict(zip(insights_group, [61, 67, 72, 79, 88], strict=True))
    for i, user in enumerate(insights_group):
        # Deals every teammate sees (owner, status, close date): i + 1 won of 5, so each
        # person's 28-day conversion differs; the first won deal of the first person carries
        # their wellness score at closing (100 - stress, with no sleep or energy given).
        for n in range(5):
            DealFactory(
                pipeline=pipeline,
                owner=user,
                status=DealStatus.WON if n <= i else DealStatus.LOST,
                closed_at=noon(monday - 3 * DAY),
                wellness_score_at_deal=100 - stress[user] if (i, n) == (0, 0) else None,
            )
        for day in range(5):
            check_in(user, day=monday + day * DAY, stress=stress[user])
    rollup_range(start=monday, end=monday + 6 * DAY)  # the real daily figures
    insights_publish()
    client.force_login(manager)
    page = tab(client)
    pairs = offered_pairs(page)
    # The attack of issue 14: each colleague's conversion from their deals, matched against
    # the page's (stress, conversion) figures, then the score on a deal against the stress.
    for user in insights_group:
        deals = list(Deal.objects.filter(owner=user).values_list("status", flat=True))
        conversion = round(100 * deals.count(DealStatus.WON) / len(deals))
        assert stress[user] not in {x for x, y in pairs if round(y) == conversion}
    (score,) = Deal.objects.exclude(wellness_score_at_deal=None).values_list(
        "wellness_score_at_deal", flat=True
    )
    assert 100 - score not in stress_figures(page)
    assert stress_figures(page) == [73]  # the team's mean: all there is


def test_granting_consent_adds_nothing_from_before_it(
    client, team_of, allow, took_part_since, manager, weeks, check_in
):
    for i, user in enumerate(team_of(4)):
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
        week_of(user, weeks[0], 30 + i)
    (late,) = team_of(1, prefix="late")
    for day in range(5):
        check_in(late, day=weeks[0] + day * DAY, stress=95)
    insights_publish()
    client.force_login(manager)
    before = tab(client)
    allow(late, ConsentScope.TEAM_INSIGHTS)
    assert not SalesHealthMetric.objects.filter(user=late).exists()  # no backfill
    # Even rows written for earlier days (an operator's rollup of the past) do not count.
    rollup_range(start=weeks[0], end=weeks[0] + 6 * DAY)
    assert SalesHealthMetric.objects.filter(user=late).count() == 5
    assert insights_publish().published == 0
    assert tab(client) == before


def test_a_published_week_never_changes_when_its_contributors_change(
    client, insights_group, team_of, allow, took_part_since, manager, weeks
):
    for i, user in enumerate(insights_group):
        week_of(user, weeks[0], 50 + i)
    insights_publish()
    published = PublishedWeek.objects.values().get()
    client.force_login(manager)
    before = tab(client)
    consent_revoke(user=insights_group[0], scope=ConsentScope.TEAM_INSIGHTS)
    Membership.objects.filter(user=insights_group[1]).delete()
    for user in team_of(2, prefix="new"):
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
        week_of(user, weeks[0], 99)
    assert insights_publish().published == 0
    assert PublishedWeek.objects.values().get() == published
    assert tab(client) == before


def test_bands_are_shown_only_when_each_holds_none_or_at_least_five(
    client, insights_group, team_of, allow, took_part_since, manager, weeks
):
    ten = [*insights_group, *team_of(5, prefix="more")]
    for i, user in enumerate(ten):
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
        week_of(user, weeks[0], 20 if i < 5 else 80)
        week_of(user, weeks[1], 20 if i < 6 else 80)  # a high band of 4 would single them out
    insights_publish()
    first, second = PublishedWeek.objects.order_by("-week_start")
    assert (first.people, first.mean_stress, first.low, first.moderate, first.high) == (
        10,
        50,
        5,
        0,
        5,
    )
    assert (second.mean_stress, second.low, second.moderate, second.high) == (44, None, None, None)
    client.force_login(manager)
    assert '<td class="muted" colspan="3">not shown</td>' in tab(client)


def test_the_database_refuses_figures_that_could_single_someone_out(team, weeks):
    def publish(**figures):
        with transaction.atomic():
            PublishedWeek.objects.create(
                team=team,
                week_start=weeks[0],
                published_at=timezone.now(),
                **{"people": 5, "mean_stress": 50, **figures},
            )

    with pytest.raises(IntegrityError):
        publish(people=4)
    with pytest.raises(IntegrityError):
        publish(people=6, low=5, moderate=1, high=0)  # a band of one
    with pytest.raises(IntegrityError):
        publish(people=6, low=5, moderate=0, high=0)  # bands that do not add up
    publish(people=10, low=5, moderate=0, high=5)


def test_a_person_in_two_teams_counts_in_the_first_they_joined_only(insights_group, weeks):
    subset = TeamFactory(name="Subset")
    for user in insights_group:
        MembershipFactory(team=subset, user=user)
        week_of(user, weeks[0], 40)
    insights_publish()
    assert list(PublishedWeek.objects.values_list("team__name", flat=True)) == ["North"]


def test_a_week_whose_people_differ_from_another_teams_by_fewer_than_five_is_withheld(
    insights_group, team_of, allow, took_part_since, weeks
):
    six = [*insights_group, *team_of(1, prefix="sixth")]
    for user in six:
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
        week_of(user, weeks[0], 40)
    insights_publish()
    east = TeamFactory(name="East")
    for user in insights_group:  # five of the six move: East's week would differ by one
        Membership.objects.filter(user=user).delete()
        MembershipFactory(team=east, user=user)
    assert insights_publish() == PublishResult(published=0, withheld=1)
    assert list(PublishedWeek.objects.values_list("team__name", flat=True)) == ["North"]


def test_withdrawing_leaves_the_contributor_sets_and_keeps_the_figures(insights_group, rep, weeks):
    for user in insights_group:
        week_of(user, weeks[0], 40)
    insights_publish()
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert not PublishedWeekContributor.objects.filter(user=rep).exists()
    assert PublishedWeekContributor.objects.count() == 4
    assert PublishedWeek.objects.get().people == 5


def test_members_who_do_not_take_part_never_count(insights_group, team_of, weeks):
    (refuser,) = team_of(1, prefix="refuser")
    for user in insights_group:
        week_of(user, weeks[0], 40)
    week_of(refuser, weeks[0], 100)  # a stray row: must not count anyway
    insights_publish()
    assert PublishedWeek.objects.values_list("people", "mean_stress").get() == (5, 40)


def test_only_weeks_that_have_ended_in_every_time_zone_are_published(insights_group):
    tuesday, monday = datetime.date(2026, 12, 1), datetime.date(2026, 11, 30)
    assert ended_weeks(tuesday)[:2] == [datetime.date(2026, 11, 23), datetime.date(2026, 11, 16)]
    assert ended_weeks(monday)[0] == datetime.date(2026, 11, 16)  # Sunday lasts till noon UTC
    assert len(ended_weeks(tuesday)) == 13
    today = utc_today()
    for user in insights_group:
        for day in range(5):
            metric(user, today - day * DAY, 40)
    published = insights_publish().published
    assert published == PublishedWeek.objects.count()
    assert not PublishedWeek.objects.filter(week_start__gt=ended_weeks(today)[0]).exists()


def test_publication_is_idempotent_and_makes_the_same_queries_at_any_size(
    insights_group, team_of, allow, took_part_since, weeks, django_assert_num_queries
):
    for user in insights_group:
        week_of(user, weeks[0], 40)
    with django_assert_num_queries(10) as few:
        assert insights_publish().published == 1
    assert insights_publish().published == 0
    for name in ("East", "West", "South"):
        team = TeamFactory(name=name)
        for i in range(6):
            user = MembershipFactory(team=team, user__username=f"{name}{i}").user
            allow(user, ConsentScope.TEAM_INSIGHTS)
            took_part_since(user, 120)
            for monday in weeks[:4]:
                week_of(user, monday, 30 + i)
    with django_assert_num_queries(len(few.captured_queries)):
        assert insights_publish().published == 12


def test_stress_and_conversion_are_compared_over_team_weeks(client, insights_group, team, weeks):
    pipeline = PipelineFactory(team=team)
    for monday, stress, won in zip(weeks[:4], (20, 40, 60, 80), (4, 3, 2, 1), strict=True):
        for user in insights_group:
            week_of(user, monday, stress)
        for n in range(4):
            DealFactory(
                pipeline=pipeline,
                owner=insights_group[n],
                status=DealStatus.WON if n < won else DealStatus.LOST,
                closed_at=noon(monday + 2 * DAY),
            )
    insights_publish()
    (insight,) = team_insights(insights_group[0])
    assert [week.conversion for week in insight.weeks[:5]] == [100, 75, 50, 25, None]
    assert insight.n == 4
    assert insight.r == pytest.approx(-1.0)
    client.force_login(insights_group[0])
    page = tab(client)
    assert "Pearson's r = <strong>-1.00</strong>, n = <strong>4</strong> team weeks" in page
    assert "a strong negative relationship" in page
    assert '<td class="number">3 / 4</td><td class="number">75 %</td>' in page


def test_revoking_takes_the_member_out_at_once(client, insights_group, rep):
    client.force_login(rep)
    assert "You take part" in tab(client)
    consent_revoke(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    assert "You do not take part" in tab(client)


def test_the_page_explains_the_model_and_what_remains_possible(rep_client):
    page = tab(rep_client)
    assert "How these figures protect each person" in page
    assert "only when at least 5 of these people checked in that week" in page
    assert "What remains possible." in page


# Issue 14, point 2: who sees a team's insights, and the audit log


def test_staff_without_the_explicit_permission_see_no_other_team(
    client, insights_group, staff_user, weeks
):
    for user in insights_group:
        week_of(user, weeks[0], 40)
    insights_publish()
    assert team_insights(staff_user) == []
    client.force_login(staff_user)
    assert "North" not in tab(client)


def test_the_explicit_permission_opens_every_team_to_active_staff_only(rep, outsider):
    permission = Permission.objects.get(
        content_type__app_label="health", codename="view_team_insights"
    )
    auditor = UserFactory(username="auditor", is_staff=True)
    for user in (auditor, rep):  # rep is no staff member: the permission alone is not enough
        user.user_permissions.add(permission)

    def seen_by(user):
        return [(insight.team.name, insight.team.is_member) for insight in team_insights(user)]

    assert seen_by(auditor) == [("North", False), ("South", False)]
    assert seen_by(rep) == [("North", True)]


def test_people_outside_the_team_see_nothing_of_it(client, insights_group, outsider):
    client.force_login(outsider)
    assert "North" not in tab(client)


def test_every_view_of_the_tab_is_audited_naming_the_teams_seen_without_membership(
    client, rep, outsider
):
    auditor = UserFactory(username="auditor", is_staff=True)
    auditor.user_permissions.add(
        Permission.objects.get(content_type__app_label="health", codename="view_team_insights")
    )
    for user in (rep, auditor, rep):
        client.force_login(user)
        tab(client)
    events = AuditEvent.objects.filter(action=AuditAction.HEALTH_DATA_VIEWED).order_by(
        "occurred_at"
    )
    assert [(event.actor_name, event.detail) for event in events] == [
        ("rep", {"what": "team wellness insights", "teams": ["North"], "not_member_of": []}),
        (
            "auditor",
            {
                "what": "team wellness insights",
                "teams": ["North", "South"],
                "not_member_of": ["North", "South"],
            },
        ),
        ("rep", {"what": "team wellness insights", "teams": ["North"], "not_member_of": []}),
    ]


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


def test_the_tab_needs_the_same_queries_for_five_or_ten_members(
    client,
    insights_group,
    team_of,
    allow,
    took_part_since,
    team,
    rep,
    weeks,
    django_assert_max_num_queries,
):
    pipeline = PipelineFactory(team=team)
    for user in insights_group:
        week_of(user, weeks[0], 42)
        DealFactory(pipeline=pipeline, owner=user, status=DealStatus.WON, closed_at=noon(weeks[0]))
    insights_publish()
    client.force_login(rep)
    with django_assert_max_num_queries(9) as five:
        tab(client)
    for user in team_of(5, prefix="more"):
        allow(user, ConsentScope.TEAM_INSIGHTS)
        took_part_since(user, 120)
        for monday in weeks[:3]:
            week_of(user, monday, 42)
        DealFactory(pipeline=pipeline, owner=user, status=DealStatus.LOST, closed_at=noon(weeks[1]))
    insights_publish()
    with django_assert_max_num_queries(len(five.captured_queries)):
        tab(client)


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
