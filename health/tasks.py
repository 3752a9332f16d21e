from datetime import date

from django.tasks import task

from coop.tasks import with_retries
from health.services import insights_publish, rollup_day


@task()
@with_retries()
def rollup_sales_health(day: str) -> dict:
    """The daily rollup of `sales_health_metrics` for one ISO date, then the publication of
    the team insights' weeks that have ended since (both idempotent)."""
    result = rollup_day(date.fromisoformat(day))
    publication = insights_publish()
    return {
        "written": result.written,
        "removed": result.removed,
        "published": publication.published,
    }
