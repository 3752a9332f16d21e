"""Forecast submissions, read: the commit a rep is offered as their number, the team's
roll-up a manager adjusts, each person's history, and how accurate their calls were.

Accuracy is measured as the forecast's is (`finance.past_periods.forecast_accuracy`): for
each ended period, the person's last number submitted before it ended, F, against the
revenue A won in it (the rep's own, or the team's for a team roll-up), converted into the
submission's currency at the rate of the period's last day; MAPE = mean |F - A| / A and
bias = mean (F - A) / A over the periods with revenue.
"""

import dataclasses
import datetime
from statistics import fmean

from django.db.models import Sum
from django.utils import timezone

from coop.models import Membership, Role, Team, User
from crm.models import DealStatus, ForecastCategory
from finance.models import ForecastSubmission, RevenueEntry, SubmissionLevel
from finance.periods import period_end
from finance.rates import MissingRateError, RateTable, convert_minor
from finance.scopes import scope_deals


def _revenue(team: Team, person: User | None, first: datetime.date, last: datetime.date):
    entries = RevenueEntry.objects.filter(team=team, booked_on__range=(first, last))
    if person is not None:
        entries = entries.filter(owner=person)
    return list(entries.values_list("currency").annotate(total=Sum("amount_cents")).order_by())


def _converted(sums: list[tuple[str, int]], currency: str, on: datetime.date) -> int:
    rates = RateTable.load({code for code, _ in sums}, currency, on)
    return sum(
        convert_minor(total, code, currency, rates.rate(code, currency, on)) for code, total in sums
    )


def commit_default(
    *, team: Team, person: User, period_type: str, first: datetime.date, currency: str
) -> int | None:
    """The rep's commit for the period: revenue they won in it plus the value of their open
    deals called commit expected to close in it, in `currency` (None: a rate is missing)."""
    last = period_end(first, period_type)
    committed = list(
        scope_deals(team, person)
        .filter(
            status=DealStatus.OPEN,
            forecast_category=ForecastCategory.COMMIT,
            expected_close_date__range=(first, last),
        )
        .values_list("currency")
        .annotate(total=Sum("value_cents"))
        .order_by()
    )
    try:
        return _converted(_revenue(team, person, first, last) + committed, currency, last)
    except MissingRateError:
        return None


@dataclasses.dataclass(frozen=True)
class RollupRow:
    member: User
    submission: ForecastSubmission | None


def team_rollup(*, team: Team, period_type: str, first: datetime.date) -> list[RollupRow]:
    """Each rep of the team with their latest own number for the period (two queries)."""
    reps = [
        m.user
        for m in Membership.objects.filter(team=team, role=Role.REP)
        .select_related("user")
        .order_by("user__username")
    ]
    latest: dict = {}
    for submission in ForecastSubmission.objects.filter(
        team=team, level=SubmissionLevel.REP, period_type=period_type, period_start=first
    ).order_by("submitted_at", "id"):
        latest[submission.submitted_by_id] = submission
    return [RollupRow(rep, latest.get(rep.pk)) for rep in reps]


def submission_accuracy(submissions: list[ForecastSubmission]) -> dict:
    """MAPE and bias of the last number of each ended period among `submissions` (one
    person's, one level), against the revenue won in the period (see the module doc), and
    those (period start, last number, won, currency) rows, oldest first, for the page."""
    today = timezone.localdate()
    last_calls: dict = {}
    for submission in sorted(submissions, key=lambda s: (s.submitted_at, s.id)):
        end = period_end(submission.period_start, submission.period_type)
        if end < today and submission.submitted_at.date() <= end:
            last_calls[(submission.period_type, submission.period_start)] = submission
    errors, rows = [], []
    for submission in sorted(last_calls.values(), key=lambda s: s.period_start):
        end = period_end(submission.period_start, submission.period_type)
        person = submission.submitted_by if submission.level == SubmissionLevel.REP else None
        try:
            actual = _converted(
                _revenue(submission.team, person, submission.period_start, end),
                submission.currency,
                end,
            )
        except MissingRateError:
            continue
        rows.append(
            {
                "start": submission.period_start,
                "submitted_cents": submission.amount_cents,
                "won_cents": actual,
                "currency": submission.currency,
            }
        )
        if actual > 0:
            errors.append((submission.amount_cents - actual) / actual)
    return {
        "rows": rows,
        "periods": len(errors),
        "mape": fmean(abs(e) for e in errors) if errors else None,
        "bias": fmean(errors) if errors else None,
    }
