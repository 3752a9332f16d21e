"""Server time of the Reports page at large scale (`seed_demo --scale large`): each report
for the demo team's manager over the default 90 days and over a full year, as the page runs
it (Django's whole stack in-process, logged in), within the budget of 300 ms each."""

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from coop.demo import DEMO_TEAM
from coop.models import Team
from crm.models import Deal, Pipeline, StageChange
from crm.reports import REPORTS

from .pages import client_for, getter

MANAGER = "maria"


def report_work() -> list[tuple[str, Callable[[], None]]]:
    """(row name, one request) of each report; the funnel of the team's biggest pipeline."""
    team = Team.objects.get(name=DEMO_TEAM)
    manager = client_for(MANAGER)
    pipeline = max(Pipeline.objects.filter(team=team), key=lambda p: p.deals.count())
    deals = Deal.objects.filter(pipeline__team=team).count()
    changes = StageChange.objects.filter(deal__pipeline__team=team).count()
    today = timezone.localdate()
    year = {"start": today.replace(year=today.year - 1).isoformat(), "end": today.isoformat()}
    url = reverse("crm:reports")
    work = []
    for name, label in REPORTS.items():
        params = {"report": name, "pipeline": pipeline.pk} if name == "funnel" else {"report": name}
        work.append(
            (
                f"report {label.lower()}, 90 days ({deals:,} deals, {changes:,} stage changes)",
                getter(manager, url, params),
            )
        )
        work.append((f"report {label.lower()}, 365 days", getter(manager, url, params | year)))
    return work
