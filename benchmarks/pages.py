"""Server time of the busiest pages at large scale: each request runs in this process
through Django's whole stack (middleware, view, template) with a logged-in session, as
gunicorn would run it, without the network."""

import datetime
from collections.abc import Callable

from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coop.demo import DEMO_TEAM
from coop.models import Membership, Role, Team, User
from crm.activity import deal_activity_refresh
from crm.demo import demo_id
from crm.models import Contact, Deal, DealStatus, Pipeline, PipelineStage, Task
from finance.models import RevenueForecast
from finance.periods import PeriodType
from finance.services import forecast_generate

from .forecast import CURRENCY, window

BUSY_CONTACT = demo_id("contact", 0)  # `seed_demo --scale large` gives it 5,000 interactions
BUSY_USER = "rafael"  # organizes 5 % of the 50,000 meetings
DASHBOARD_FORECAST = "Benchmark: twelve months of the demo team"


def client_for(username: str) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    return client


def getter(
    client: Client, url: str, params: dict | None = None, headers: dict | None = None
) -> Callable[[], None]:
    """One GET of `url` that must answer 200."""

    def get() -> None:
        response = client.get(url, params or {}, headers=headers or {})
        if response.status_code != 200:
            raise AssertionError(f"GET {url} {params}: {response.status_code}")

    return get


def dashboard_forecast(team: Team, actor: User) -> RevenueForecast:
    """A saved twelve-month forecast of the whole team (made once, then reused)."""
    forecast = RevenueForecast.objects.filter(name=DASHBOARD_FORECAST, team=team).first()
    if forecast is None:
        start, end = window(timezone.localdate())
        forecast = forecast_generate(
            actor=actor,
            team=team,
            scope_user=None,
            period_type=PeriodType.MONTHLY,
            start=start,
            end=end,
            currency=CURRENCY,
            name=DASHBOARD_FORECAST,
        )
    return forecast


DAY_TASKS_PER_PERSON = 300  # due over the last and the next 30 days; one in three done


def day_tasks(team: Team) -> int:
    """Tasks on the open deals of each member of the team (made once, then reused): what
    "My day" reads besides the demo's deals and meetings. Returns how many there are."""
    if not Task.objects.filter(team=team).exists():
        today, now = timezone.localdate(), timezone.now()
        rows = []
        for member in team.members.all():
            deals = list(
                Deal.objects.filter(owner=member, status=DealStatus.OPEN)
                .order_by("id")
                .values_list("pk", flat=True)[:DAY_TASKS_PER_PERSON]
            )
            for i, deal_id in enumerate(deals):
                done = i % 3 == 0
                rows.append(
                    Task(
                        team=team,
                        deal_id=deal_id,
                        title=f"Benchmark step {i}",
                        due_date=today + datetime.timedelta(days=i % 61 - 30),
                        assignee=member,
                        created_by=member,
                        completed_at=now if done else None,
                        completed_by=member if done else None,
                    )
                )
        Task.objects.bulk_create(rows, batch_size=2_000)
        # Bulk rows bypass the task services, which keep the deals' last activity.
        deal_activity_refresh(Deal.objects.filter(pk__in={row.deal_id for row in rows}))
    return Task.objects.filter(team=team).count()


SMALL_DAY_TEAM = "Benchmark: small team for My day"
SMALL_DAY_REPS, SMALL_DAY_DEALS = 3, 100  # deals per rep


@transaction.atomic
def small_day_team() -> tuple[User, User]:
    """(a rep, the manager) of a small team made once: three reps with 100 open deals each,
    a third of them quiet for 60 days, and a task on another third, due over the last and
    next 15 days, one in three done: "My day" at a small team's size, next to the large data."""
    team, _ = Team.objects.get_or_create(name=SMALL_DAY_TEAM)
    manager, _ = User.objects.get_or_create(username="day-bench-manager")
    Membership.objects.get_or_create(team=team, user=manager, defaults={"role": Role.MANAGER})
    reps = []
    for n in range(SMALL_DAY_REPS):
        rep, _ = User.objects.get_or_create(username=f"day-bench-rep-{n}")
        Membership.objects.get_or_create(team=team, user=rep, defaults={"role": Role.REP})
        reps.append(rep)
    if Deal.objects.filter(pipeline__team=team).exists():
        return reps[0], manager
    pipeline = Pipeline.objects.create(team=team, name="Sales", currency="EUR")
    stage = PipelineStage.objects.create(pipeline=pipeline, name="Lead", probability=20)
    today, now = timezone.localdate(), timezone.now()
    deals = [
        Deal(
            pipeline=pipeline,
            stage=stage,
            owner=rep,
            title=f"Small day deal {n}",
            value_cents=100_000,
            currency="EUR",
            expected_close_date=today + datetime.timedelta(days=n % 60 - 20),
            stage_entered_at=now - datetime.timedelta(days=60 if n % 3 == 0 else 1),
        )
        for rep in reps
        for n in range(SMALL_DAY_DEALS)
    ]
    Deal.objects.bulk_create(deals)
    quiet = [deal.pk for n, deal in enumerate(deals) if n % 3 == 0]
    old = now - datetime.timedelta(days=60)
    Deal.objects.filter(pk__in=quiet).update(created_at=old, updated_at=old)
    steps = [deal for n, deal in enumerate(deals) if n % 3 == 1]  # not on the quiet ones
    Task.objects.bulk_create(
        Task(
            team=team,
            deal=deal,
            title=f"Small day step {n}",
            due_date=today + datetime.timedelta(days=n % 31 - 15),
            assignee=deal.owner,
            created_by=deal.owner,
            completed_at=now if n % 3 == 0 else None,
            completed_by=deal.owner if n % 3 == 0 else None,
        )
        for n, deal in enumerate(steps)
    )
    deal_activity_refresh(Deal.objects.filter(pipeline=pipeline))
    return reps[0], manager


def day_work() -> list[tuple[str, Callable[[], None]]]:
    """(row name, one request) of "My day" at two sizes, as the dashboard loads it (an htmx
    request for the fragment): a rep and the manager's team view of the demo team on the
    large data, and of the small team."""
    demo = Team.objects.get(name=DEMO_TEAM)
    day_tasks(demo)
    small_rep, small_manager = small_day_team()
    day, htmx = reverse("crm:my_day"), {"HX-Request": "true"}
    rows = []
    for rep, manager, team_of in (
        (User.objects.get(username=BUSY_USER), User.objects.get(username="maria"), demo),
        (small_rep, small_manager, Team.objects.get(name=SMALL_DAY_TEAM)),
    ):
        members = team_of.members.count()
        size = Task.objects.filter(team=team_of).count()
        rep_deals = Deal.objects.filter(owner=rep, status=DealStatus.OPEN).count()
        team_deals = Deal.objects.filter(pipeline__team=team_of, status=DealStatus.OPEN).count()
        rows += [
            (
                f"my day of a rep ({rep_deals:,} open deals)",
                getter(client_for(rep.username), day, headers=htmx),
            ),
            (
                f"my day, manager's team view ({members} people, {team_deals:,} open deals, "
                f"{size:,} tasks)",
                getter(client_for(manager.username), day, {"who": "team"}, headers=htmx),
            ),
        ]
    return rows


def page_work() -> list[tuple[str, Callable[[], None]]]:
    """(row name, one request) of every page the issue lists."""
    team = Team.objects.get(name=DEMO_TEAM)
    contact = Contact.objects.get(pk=BUSY_CONTACT)
    timeline = contact.interactions.count()
    manager, rep, finance = client_for("maria"), client_for(BUSY_USER), client_for("fiona")
    pipeline = Pipeline.objects.filter(team=team).order_by("name").first()
    deals = pipeline.deals.count()
    forecast = dashboard_forecast(team, User.objects.get(username="fiona"))
    members = team.members.count()
    return [
        (
            f"contact detail ({timeline:,} interactions)",
            getter(manager, reverse("crm:contact_detail", args=[contact.pk])),
        ),
        ("contact search (q=ana)", getter(manager, reverse("crm:contact_list"), {"q": "ana"})),
        (
            f"pipeline board ({deals:,} deals)",
            getter(manager, reverse("crm:pipeline_board", args=[pipeline.pk])),
        ),
        ("calendar month of a busy user", getter(rep, reverse("crm:calendar"))),
        (
            f"forecast dashboard ({forecast.deals.count():,} deals)",
            getter(finance, reverse("finance:detail", args=[forecast.pk])),
        ),
        (
            f"insights tab ({members}-person team, 90 days)",
            # As the dashboard loads the tab: an htmx request for the fragment.
            getter(manager, reverse("health:insights"), headers={"HX-Request": "true"}),
        ),
        *day_work(),
    ]
