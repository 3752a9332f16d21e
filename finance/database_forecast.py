"""The forecast computed inside PostgreSQL, for `forecast_generate` at scale.

One INSERT ... SELECT picks the deals, converts them at each day's rate, writes the
forecast's `forecast_deals` rows and returns every period's totals and interval `Moments`;
a deal's value comes back to Python only when an exact or simulated interval needs it (one
more query). So 100,000 deals cost about what the insert alone costs, not 100,000 Python
objects.

It computes what `finance.lines.deal_lines` followed by `finance.forecasting.evaluate`
computes (the Python path, used on SQLite and for what-if scenarios); the tests run both on
the same deals and require identical rows, buckets and intervals:

- which deals count: open deals expected to close in [start, end] at their stage
  probability, deals won in it (their closing day in `zone`) as realized at 100 %;
- the rate of a day: the latest on or before it, direct (base -> report currency) or
  inverted (1 / rate, rounded half-even to 10 places) whichever is more recent, the direct
  one on a tie (`finance.rates.RateTable`); a deal without one raises `MissingRateError`
  naming the first such deal's pair and day, in the deals' order;
- amounts: value x rate in major units, then half-even to minor units of the report
  currency; expected value = value x probability / 100, half-even (`coop.money`);
- periods: the period start of the deal's day, not before `start` (`finance.periods`);
- the forecast category: the deal's, "closed" for a won deal;
- an open deal's probability: the learned one of its stage and time-in-stage band where the
  pipeline uses learned probabilities (`finance.learned.ForecastProbabilities`), else its
  stage's.
"""

import dataclasses
import datetime
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from coop.models import Team, User
from coop.money import MINOR_UNIT_EXPONENTS
from crm.models import DealStatus
from finance.forecasting import Bucket, Outcome
from finance.intervals import Moments, interval_from_moments, needs_deals
from finance.learned import DAY_BANDS, ForecastProbabilities
from finance.lines import day_bounds, deal_lines
from finance.models import CLOSED_CATEGORY, RevenueForecast
from finance.periods import PeriodType, periods_between

_DATE_TRUNC_UNIT = {
    PeriodType.DAILY: "day",
    PeriodType.WEEKLY: "week",  # PostgreSQL's weeks start on Monday, as ISO weeks do
    PeriodType.MONTHLY: "month",
    PeriodType.QUARTERLY: "quarter",
}


def _half_even(expression: str) -> str:
    """SQL rounding of a numeric expression to an integer, half to even (PostgreSQL's
    round() takes halves away from zero)."""
    return (
        f"(CASE WHEN abs(({expression}) - trunc({expression})) = 0.5 "
        f"THEN 2 * round(({expression}) / 2) ELSE round({expression}) END)"
    )


# expected_hundredths / 100 rounded half-even, in whole numbers (it is non-negative: deal
# values and rates are checked positive or zero). Numeric, as in Python: value x probability
# may pass bigint's range even when the expected value does not.
_HALF_EVEN_HUNDREDTHS = (
    "(div(expected_hundredths, 100) + CASE WHEN mod(expected_hundredths, 100) > 50 "
    "OR (mod(expected_hundredths, 100) = 50 AND mod(div(expected_hundredths, 100), 2) = 1) "
    "THEN 1 ELSE 0 END)::bigint"
)


def _to_report_minor_units(column: str, report_currency: str) -> str:
    """SQL: the factor from minor units of the currency in `column` to minor units of the
    report currency (1 unless their minor-unit exponents differ)."""
    report = MINOR_UNIT_EXPONENTS.get(report_currency.upper(), 2)
    cases = " ".join(
        f"WHEN '{code}' THEN {Decimal(10) ** (report - exponent)}"
        for code, exponent in MINOR_UNIT_EXPONENTS.items()
    )
    return f"(CASE upper({column}) {cases} ELSE {Decimal(10) ** (report - 2)} END)::numeric"


# Rates are looked up per deal, but PostgreSQL memoizes the lookup per currency and day. A
# deal without a rate is inserted at rate 0 and counted; the caller then raises (rolling
# the insert back), so the expensive statement has no second pass over the deals.
_DEALS_SQL = """
WITH inserted AS (
    INSERT INTO forecast_deals (
        forecast_id, deal_id, expected_value_cents, probability, realized, on_date,
        period_start, deal_value_cents, deal_currency, rate, value_cents, stage_id,
        stage_name, title, forecast_category
    )
    SELECT %(forecast)s, id, {expected_value}, probability, realized, on_date,
           greatest(date_trunc(%(unit)s, on_date)::date, %(start)s), value_cents, currency,
           rate, value_in, stage_id, stage_name, title, forecast_category
    FROM (
        SELECT converted.*, value_in::numeric * probability AS expected_hundredths
        FROM (
            SELECT rated.*, {converted_value}::bigint AS value_in
            FROM (
                SELECT deals.*, coalesce(found.rate, 0) AS rate,
                       deals.value_cents * coalesce(found.rate, 0) * {to_report_minor_units}
                           AS exact_value
                FROM (
                    SELECT d.id, d.title, d.stage_id, s.name AS stage_name, d.value_cents,
                           d.currency, d.status = %(won)s AS realized,
                           CASE WHEN d.status = %(won)s THEN %(closed)s
                                ELSE d.forecast_category END AS forecast_category,
                           CASE WHEN d.status = %(won)s THEN 100
                                ELSE {open_probability} END
                               AS probability,
                           CASE WHEN d.status = %(won)s
                                THEN (d.closed_at AT TIME ZONE %(zone)s)::date
                                ELSE d.expected_close_date END AS on_date
                    FROM crm_deals d
                    JOIN crm_pipelines p ON p.id = d.pipeline_id
                    JOIN crm_pipeline_stages s ON s.id = d.stage_id
                    {learned_join}
                    WHERE p.team_id = %(team)s {owner_filter} AND (
                        (d.status = %(open)s
                         AND d.expected_close_date BETWEEN %(start)s AND %(end)s)
                        OR (d.status = %(won)s AND d.closed_at >= %(begin)s
                            AND d.closed_at < %(finish)s))
                ) deals
                LEFT JOIN LATERAL (
                    SELECT CASE WHEN deals.currency = %(currency)s THEN 1::numeric(20, 10)
                                ELSE candidates.rate END AS rate
                    FROM (
                        (SELECT x.date, 1 AS direct, x.rate FROM finance_exchange_rates x
                         WHERE x.base = deals.currency AND x.quote = %(currency)s
                           AND x.date <= deals.on_date
                         ORDER BY x.date DESC LIMIT 1)
                        UNION ALL
                        (SELECT x.date, 0, {inverted} FROM finance_exchange_rates x
                         WHERE x.base = %(currency)s AND x.quote = deals.currency
                           AND x.date <= deals.on_date
                         ORDER BY x.date DESC LIMIT 1)
                        UNION ALL
                        SELECT NULL, -1, NULL
                    ) candidates
                    ORDER BY candidates.date DESC NULLS LAST, candidates.direct DESC LIMIT 1
                ) found ON true
                OFFSET 0
            ) rated
            OFFSET 0
        ) converted
        OFFSET 0
    ) expected
    RETURNING period_start, realized, probability, rate, value_cents, expected_value_cents
)
SELECT period_start, realized, probability, count(*),
       count(*) FILTER (WHERE value_cents <> 0), count(*) FILTER (WHERE rate = 0),
       sum(expected_value_cents), sum(value_cents), sum(squared), sum(squared * value_cents),
       sum(squared * squared)
FROM (SELECT inserted.*, value_cents::numeric * value_cents AS squared FROM inserted OFFSET 0)
     inserted
GROUP BY period_start, realized, probability
"""

# The learned probability of a deal's stage and time-in-stage band. Only when the team has
# learned probabilities: the band is a subquery per deal, and this join made PostgreSQL hash
# every deal (spilling to disk at 100,000) even with nothing to look up.
_LEARNED_JOIN = """LEFT JOIN unnest(%(lp_stages)s::uuid[], %(lp_bands)s::int[],
                                     %(lp_probabilities)s::int[])
                        AS lp(stage_id, band, probability)
                        ON lp.stage_id = d.stage_id AND lp.band = (
                            SELECT max(bound) FROM unnest(%(bands)s::int[]) AS bands(bound)
                            WHERE bound <= greatest(floor(extract(epoch FROM
                                %(as_of)s - d.stage_entered_at) / 86400), 0))"""

_UNCERTAIN = "NOT realized AND probability > 0 AND probability < 100 AND value_cents <> 0"

_UNCERTAIN_DEALS_SQL = f"""
SELECT period_start, value_cents, probability FROM forecast_deals
WHERE forecast_id = %(forecast)s AND {_UNCERTAIN} {{period_filter}}
ORDER BY period_start, on_date, title, deal_id
"""  # noqa: S608 - no user input is formatted in, only the fixed period filter


@dataclasses.dataclass
class _PeriodTotals:
    deal_count: int = 0
    expected_cents: int = 0
    realized_cents: int = 0
    moments: Moments = dataclasses.field(default_factory=Moments)

    def add(self, row: tuple) -> None:
        """Add one (realized, probability) group: its count, non-zero count, expected sum
        and the sums of the values' powers 1 to 4."""
        realized, p, count, nonzero, expected, *powers = row
        s1, s2, s3, s4 = (int(value) for value in powers)
        self.deal_count += count
        self.expected_cents += int(expected)
        if realized:
            self.realized_cents += s1
        if realized or p >= 100:
            group = Moments(certain_cents=s1)
        elif p > 0:
            q, spread = 100 - p, p * (100 - p)
            group = Moments(
                uncertain_deals=nonzero,
                values=s1,
                first=p * s1,
                second=spread * s2,
                third=spread * (q - p) * s3,
                fourth=spread * (10_000 - 6 * spread) * s4,
                absolute_third=spread * (p * p + q * q) * s3,
            )
        else:
            group = Moments()
        self.moments += group


def _statement(*, report_currency: str, scoped: bool, learned: bool) -> str:
    inverted = f"({_half_even('1::numeric(38, 30) / x.rate * 10000000000')} / 10000000000)"
    return _DEALS_SQL.format(
        owner_filter="AND d.owner_id = %(owner)s" if scoped else "",
        learned_join=_LEARNED_JOIN if learned else "",
        open_probability="coalesce(lp.probability, s.probability)" if learned else "s.probability",
        inverted=f"{inverted}::numeric(20, 10)",
        to_report_minor_units=_to_report_minor_units("deals.currency", report_currency),
        converted_value=_half_even("rated.exact_value"),
        expected_value=_HALF_EVEN_HUNDREDTHS,
    )


def _insert_rows(
    forecast: RevenueForecast,
    *,
    team: Team,
    scope_user: User | None,
    zone: zoneinfo.ZoneInfo,
    probabilities: ForecastProbabilities,
) -> dict[datetime.date, _PeriodTotals]:
    begin, finish = day_bounds(forecast.start_date, forecast.end_date, zone)
    parameters = {
        "forecast": forecast.pk,
        "team": team.pk,
        "owner": scope_user.pk if scope_user is not None else None,
        "start": forecast.start_date,
        "end": forecast.end_date,
        "begin": begin,
        "finish": finish,
        "zone": zone.key,
        "currency": forecast.currency,
        "unit": _DATE_TRUNC_UNIT[forecast.period_type],
        "open": DealStatus.OPEN,
        "won": DealStatus.WON,
        "closed": CLOSED_CATEGORY,
        "lp_stages": [stage for stage, _ in probabilities.learned],
        "lp_bands": [band for _, band in probabilities.learned],
        "lp_probabilities": list(probabilities.learned.values()),
        "bands": list(DAY_BANDS),
        "as_of": probabilities.as_of,
    }
    statement = _statement(
        report_currency=forecast.currency,
        scoped=scope_user is not None,
        learned=bool(probabilities.learned),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        rows = cursor.fetchall()
    if any(row[5] for row in rows):
        # The Python path names the first deal without a rate, in its order, as it would.
        deal_lines(
            team=team,
            scope_user=scope_user,
            start=forecast.start_date,
            end=forecast.end_date,
            currency=forecast.currency,
            zone=zone,
        )
        raise AssertionError("A deal had no exchange rate, but deal_lines found one.")
    totals: dict[datetime.date, _PeriodTotals] = defaultdict(_PeriodTotals)
    for period, realized, probability, count, nonzero, _missing, *sums in rows:
        totals[period].add((realized, probability, count, nonzero, *sums))
    return totals


def _uncertain_deals(
    forecast: RevenueForecast, periods: list[datetime.date] | None
) -> dict[datetime.date, tuple[list[int], list[int]]]:
    """(values, probabilities) of the uncertain deals of `periods` (None: all), in the
    order the Python path sees them."""
    period_filter = "AND period_start = ANY(%(periods)s)" if periods is not None else ""
    deals: dict[datetime.date, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    with connection.cursor() as cursor:
        cursor.execute(
            _UNCERTAIN_DEALS_SQL.format(period_filter=period_filter),
            {"forecast": forecast.pk, "periods": periods},
        )
        for period, value, probability in cursor.fetchall():
            deals[period][0].append(value)
            deals[period][1].append(probability)
    return deals


def forecast_deals_insert(
    forecast: RevenueForecast,
    *,
    team: Team,
    scope_user: User | None,
    zone: zoneinfo.ZoneInfo,
    probabilities: ForecastProbabilities,
) -> Outcome:
    """Insert the saved `forecast`'s deal rows and return its buckets and intervals (an
    `Outcome` without lines: they are in the table). Two queries, three when an interval
    needs the deals. Raises MissingRateError; the caller's transaction then writes nothing."""
    totals = _insert_rows(
        forecast, team=team, scope_user=scope_user, zone=zone, probabilities=probabilities
    )
    periods = periods_between(forecast.start_date, forecast.end_date, forecast.period_type)
    by_period = {first: totals.get(first, _PeriodTotals()) for first, _last in periods}
    whole = sum((period.moments for period in by_period.values()), Moments())
    if needs_deals(whole):
        deals = _uncertain_deals(forecast, None)
    else:
        wanted = [first for first, period in by_period.items() if needs_deals(period.moments)]
        deals = _uncertain_deals(forecast, wanted) if wanted else {}
    buckets = [
        Bucket(
            start=first,
            end=last,
            expected_cents=by_period[first].expected_cents,
            realized_cents=by_period[first].realized_cents,
            deal_count=by_period[first].deal_count,
            interval=interval_from_moments(
                by_period[first].moments, lambda first=first: deals[first]
            ),
        )
        for first, last in periods
    ]

    def every_deal() -> tuple[list[int], list[int]]:
        ordered = [deals[first] for first, _last in periods if first in deals]
        return (
            [value for values, _ in ordered for value in values],
            [probability for _, probabilities in ordered for probability in probabilities],
        )

    return Outcome(
        lines=[],
        deal_count=sum(bucket.deal_count for bucket in buckets),
        buckets=buckets,
        total_expected_cents=sum(bucket.expected_cents for bucket in buckets),
        realized_cents=sum(bucket.realized_cents for bucket in buckets),
        interval=interval_from_moments(whole, every_deal),
    )
