from datetime import date

from django.tasks import task

from coop.tasks import with_retries
from health.services import rollup_day


@task()
@with_retries()
def rollup_sales_health(day: str) -> dict:
    """The daily rollup of `sales_health_metrics` for one ISO date (idempotent)."""
    result = rollup_day(date.fromisoformat(day))
    return {"written": result.written, "removed": result.removed}
