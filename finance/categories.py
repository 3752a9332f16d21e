"""The forecast categories of a saved forecast, per period: what the reps call, next to what
the stage probabilities expect. Read from the forecast's `forecast_deals` rows (which keep
each deal's category as it was when the forecast was made), in one query.

- closed: the revenue of the deals won in the period;
- commit: closed + the value of the open deals called commit;
- best case: commit + the value of the open deals called best case;
- weighted pipeline: the expected value (value x probability) of the open deals not omitted.
"""

import dataclasses
import datetime

from django.db.models import Sum

from crm.models import ForecastCategory
from finance.models import CLOSED_CATEGORY, ForecastDeal, RevenueForecast


@dataclasses.dataclass(frozen=True)
class CategoryTotals:
    closed_cents: int = 0
    commit_cents: int = 0
    best_case_cents: int = 0
    weighted_pipeline_cents: int = 0

    def __add__(self, other: "CategoryTotals") -> "CategoryTotals":
        return CategoryTotals(
            *(
                a + b
                for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
            )
        )


def _totals(category: str, value: int, expected: int) -> CategoryTotals:
    if category == CLOSED_CATEGORY:
        return CategoryTotals(value, value, value, 0)
    if category == ForecastCategory.OMITTED:
        return CategoryTotals()
    commit = value if category == ForecastCategory.COMMIT else 0
    best_case = value if category in (ForecastCategory.COMMIT, ForecastCategory.BEST_CASE) else 0
    return CategoryTotals(0, commit, best_case, expected)


def category_totals(forecast: RevenueForecast) -> dict[datetime.date, CategoryTotals]:
    """Each period's (by its start) category totals, in the forecast's currency."""
    rows = (
        ForecastDeal.objects.filter(forecast=forecast)
        .values_list("period_start", "forecast_category")
        .annotate(value=Sum("value_cents"), expected=Sum("expected_value_cents"))
        .order_by()
    )
    periods: dict[datetime.date, CategoryTotals] = {}
    for first, category, value, expected in rows:
        periods[first] = periods.get(first, CategoryTotals()) + _totals(category, value, expected)
    return periods
