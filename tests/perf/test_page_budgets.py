"""Every page `make bench` times, and each list, search and calendar page the load test
drives (issue 22), makes at most 15 queries, and the same number at a small and a larger size
of data (issue 7). The benchmark data itself is far too big for CI; the
sizes here are enough to show that nothing runs a query per row."""

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Attendee, Event
from coop.models import Consent, ConsentScope, Membership, Role, User
from crm.day import DAY_LIST_LIMIT
from crm.models import Contact, Deal, Interaction, InteractionType, Organization
from crm.services import contact_timelines_touch
from crm.views.contacts import CONTACTS_PER_PAGE
from crm.views.deals import DEALS_PER_PAGE
from crm.views.organizations import ORGANIZATIONS_PER_PAGE
from finance.models import ExchangeRate
from finance.periods import PeriodType
from finance.services import forecast_generate
from health.models import CheckIn
from health.services import rollup_day, rollup_range
from tests.crm.conftest import contact, pipeline, stages  # noqa: F401

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 15
HTMX = {"HTTP_HX_REQUEST": "true"}


class Grower:
    """Adds `n` more of everything the pages show, on top of what is there."""

    def __init__(self, team, rep, manager, busy_contact, board, board_stages):
        self.team, self.rep, self.manager = team, rep, manager
        self.contact, self.pipeline, self.stages = busy_contact, board, board_stages
        self.added = 0

    def grow(self, n: int) -> None:
        now = timezone.now()
        first = self.added
        self.added += n
        Contact.objects.bulk_create(
            Contact(team=self.team, owner=self.rep, name=f"Ana {i}", email=f"ana{i}@x.example")
            for i in range(first, self.added)
        )
        Organization.objects.bulk_create(
            Organization(team=self.team, name=f"Anaheim Coop {i}", size="small")
            for i in range(first, self.added)
        )
        Interaction.objects.bulk_create(
            Interaction(
                contact=self.contact,
                author=self.rep,
                interaction_type=InteractionType.CALL,
                summary=f"Call {i}",
                timestamp=now - datetime.timedelta(minutes=i),
            )
            for i in range(first * 10, self.added * 10)
        )
        open_stages = [self.stages["Lead"], self.stages["Proposal"], self.stages["Negotiation"]]
        Deal.objects.bulk_create(
            Deal(
                pipeline=self.pipeline,
                stage=open_stages[i % 3],
                contact=self.contact,
                owner=self.rep,
                title=f"Deal {i}",
                value_cents=100_000 + i,
                currency="EUR",
                expected_close_date=timezone.localdate() + datetime.timedelta(days=i % 20),
            )
            for i in range(first * 3, self.added * 3)
        )
        today = timezone.localdate()
        events = Event.objects.bulk_create(
            Event(
                organizer=self.rep,
                title=f"Meeting {i}",
                start_time=now + datetime.timedelta(hours=i % 48),
                end_time=now + datetime.timedelta(hours=i % 48, minutes=30),
            )
            for i in range(first, self.added)
        )
        Attendee.objects.bulk_create(
            Attendee(event=e, guest_name=self.contact.name) for e in events
        )
        # bulk_create sends no signals: say the timeline changed, as bulk writers must.
        contact_timelines_touch(contacts=Contact.objects.filter(pk=self.contact.pk))
        people = [
            User.objects.create(username=f"member{i}", time_zone="Europe/Paris")
            for i in range(first // 4, self.added // 4)
        ]
        Membership.objects.bulk_create(
            Membership(user=user, team=self.team, role=Role.REP) for user in people
        )
        Consent.objects.bulk_create(
            Consent(user=user, scope=ConsentScope.TEAM_INSIGHTS, granted_at=now, text_version="1")
            for user in people
        )
        CheckIn.objects.bulk_create(
            CheckIn(user=user, date=today - datetime.timedelta(days=d), stress=40 + d % 30)
            for user in people
            for d in range(90)
        )
        rollup_range(start=today - datetime.timedelta(days=89), end=today)


@pytest.fixture
def grower(team, rep, manager, contact, pipeline, stages):  # noqa: F811 (fixtures)
    return Grower(team, rep, manager, contact, pipeline, stages)


def _page(client: Client, url: str, **extra) -> tuple[int, str]:
    """The number of queries answering `url`, and the page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def _counts(grower, finance_user) -> dict[str, int]:
    rep, manager, finance = Client(), Client(), Client()
    rep.force_login(grower.rep)
    manager.force_login(grower.manager)
    finance.force_login(finance_user)
    today = timezone.localdate()
    forecast = forecast_generate(
        actor=finance_user,
        team=grower.team,
        scope_user=None,
        period_type=PeriodType.MONTHLY,
        start=today.replace(day=1),
        end=today.replace(day=1) + datetime.timedelta(days=60),
        currency="EUR",
    )
    pages = {
        "contact detail": _page(manager, reverse("crm:contact_detail", args=[grower.contact.pk])),
        "contact search": _page(manager, reverse("crm:contact_list") + "?q=ana"),
        "pipeline board": _page(manager, reverse("crm:pipeline_board", args=[grower.pipeline.pk])),
        "calendar month": _page(rep, reverse("crm:calendar")),
        "calendar week": _page(rep, reverse("crm:calendar") + "?view=week"),
        "calendar week, team view": _page(manager, reverse("crm:calendar") + "?view=week&who=team"),
        "deals list": _page(manager, reverse("crm:deal_list")),
        "organizations list": _page(manager, reverse("crm:organization_list")),
        "search": _page(manager, reverse("crm:search") + "?q=ana"),
        "forecast dashboard": _page(finance, reverse("finance:detail", args=[forecast.pk])),
        "insights tab": _page(manager, reverse("health:insights"), **HTMX),
        # As the dashboard loads it (htmx); the manager's view of the whole team too.
        "my day": _page(rep, reverse("crm:my_day"), **HTMX),
        "my day, team view": _page(manager, reverse("crm:my_day") + "?who=team", **HTMX),
        "benchmark floor": _page(rep, reverse("bench_floor")),
    }
    _assert_shown(grower, {name: text for name, (_, text) in pages.items()})
    return {name: count for name, (count, _) in pages.items()}


def _assert_shown(grower, pages: dict[str, str]) -> None:
    """Each page shows the records it is there for, so a page that rendered none of them
    cannot pass on its query count."""
    deals = grower.added * 3
    detail = pages["contact detail"]
    assert "<strong>Call 0</strong>" in detail  # the newest interaction
    assert len(re.findall(r'<li><a href="/deals/[^"]+/">Deal \d+</a>', detail)) == deals
    found = re.findall(
        r'<th scope="row"><a href="/contacts/[^"]+/">(Ana \d+)</a>', pages["contact search"]
    )
    assert found[0] == "Ana 0" and len(found) == min(grower.added, CONTACTS_PER_PAGE)
    per_stage = f'<span class="deal-count">{grower.added} deals</span>'
    assert pages["pipeline board"].count(per_stage) == 3
    assert re.search(r"</time> Meeting \d+", pages["calendar month"])
    # The meetings are in the next two days and the calls in the last hours: on a Monday
    # just after midnight or a Sunday night some fall in another week, never all of them.
    week_entries = r"</time> (Meeting \d+|Call: Call \d+)"
    assert re.search(week_entries, pages["calendar week"])
    assert re.search(week_entries, pages["calendar week, team view"])
    assert len(re.findall(r'<a href="/deals/[^"]+/">Deal \d+</a>', pages["deals list"])) == min(
        deals, DEALS_PER_PAGE
    )
    assert f"{deals} deals." in pages["deals list"]
    organizations = re.findall(
        r'<a href="/organizations/[^"]+/">Anaheim Coop \d+</a>', pages["organizations list"]
    )
    assert len(organizations) == min(grower.added, ORGANIZATIONS_PER_PAGE)
    assert ">Ana 0</a>" in pages["search"] and ">Anaheim Coop 0</a>" in pages["search"]
    total = f'<tr><th scope="row">Total</th><td class="num">{deals}</td>'
    assert total in pages["forecast dashboard"]
    assert grower.team.name in pages["insights tab"]
    # No deal has a task or a meeting with its contact on the timeline: all lack a next step.
    flagged = min(deals, DAY_LIST_LIMIT)
    assert pages["my day"].count('<span class="badge warning">no next step</span>') == flagged
    assert pages["my day, team view"].count("no next step</span>") == flagged
    assert pages["benchmark floor"] == f"ok {grower.rep.pk}"


def test_the_benchmarked_pages_make_the_same_few_queries_at_two_sizes(grower, finance_user):
    ExchangeRate.objects.create(date=timezone.localdate(), base="USD", quote="EUR", rate=1)
    grower.grow(20)  # 20 contacts, 200 interactions, 60 deals, 20 meetings, 5 members
    small = _counts(grower, finance_user)
    grower.grow(160)  # and then 180, 1,800, 540, 180 and 45
    large = _counts(grower, finance_user)
    assert large == small
    assert max(small.values()) <= PAGE_BUDGET, small


def test_the_daily_rollup_makes_the_same_queries_at_two_sizes(grower):
    grower.grow(20)
    with CaptureQueriesContext(connection) as few:
        rollup_day(timezone.localdate())
    grower.grow(160)
    with CaptureQueriesContext(connection) as many:
        result = rollup_day(timezone.localdate())
    assert result.written == 45
    assert len(many) == len(few) <= PAGE_BUDGET


def test_the_benchmark_floor_needs_a_login(client, rep):
    url = reverse("bench_floor")
    assert client.get(url).status_code == 302
    client.force_login(rep)
    response = client.get(url)
    assert response.status_code == 200
    assert response.text == f"ok {rep.pk}"
