"""A forecast as CSV or XLSX for planning tools: summary, periods with intervals, deals.

Amounts are written as numbers in major units; formulas are neutralised and both files are
streamed while the deals are read (`.iterator()`) by `coop.spreadsheets`.
"""

from collections.abc import Iterator
from decimal import Decimal

from coop.money import to_major_units
from coop.spreadsheets import csv_stream, xlsx_stream
from finance.models import ForecastBucket, ForecastDeal, RevenueForecast
from finance.periods import period_label


def _money(forecast: RevenueForecast, cents: int) -> Decimal:
    return to_major_units(cents, forecast.currency)


def summary_rows(forecast: RevenueForecast) -> list[list]:
    interval = forecast.confidence_interval
    total = interval["total"]
    money = forecast.currency
    return [
        ["Forecast", forecast.name],
        ["Scope", str(forecast.scope_user or forecast.team)],
        ["Team", str(forecast.team)],
        ["Periods", forecast.get_period_type_display()],
        ["From", forecast.start_date.isoformat()],
        ["To", forecast.end_date.isoformat()],
        ["Made on", forecast.forecast_date.isoformat()],
        ["Currency", money],
        ["Expected total", _money(forecast, forecast.total_expected_cents)],
        ["Realized", _money(forecast, forecast.realized_cents)],
        ["P10", _money(forecast, total["p10"])],
        ["P50", _money(forecast, total["p50"])],
        ["P90", _money(forecast, total["p90"])],
        ["95 % interval low", _money(forecast, total["low95"])],
        ["95 % interval high", _money(forecast, total["high95"])],
        ["Interval method", interval["method"]],
        ["Interval model", interval["model"]],
    ]


PERIOD_HEADER = [
    "Period",
    "From",
    "To",
    "Deals",
    "Expected",
    "Realized",
    "P10",
    "P50",
    "P90",
    "95 % low",
    "95 % high",
    "Method",
]


def period_rows(forecast: RevenueForecast) -> Iterator[list]:
    methods = {p["start"]: p["method"] for p in forecast.confidence_interval["periods"]}
    for bucket in ForecastBucket.objects.filter(forecast=forecast).order_by("period_start"):
        yield [
            period_label(bucket.period_start, forecast.period_type),
            bucket.period_start.isoformat(),
            bucket.period_end.isoformat(),
            bucket.deal_count,
            *(
                _money(forecast, cents)
                for cents in (
                    bucket.expected_cents,
                    bucket.realized_cents,
                    bucket.p10_cents,
                    bucket.p50_cents,
                    bucket.p90_cents,
                    bucket.low95_cents,
                    bucket.high95_cents,
                )
            ),
            methods.get(bucket.period_start.isoformat(), ""),
        ]


DEAL_HEADER = [
    "Deal id",
    "Deal",
    "Stage",
    "Status",
    "Date",
    "Period",
    "Deal value",
    "Deal currency",
    "Rate",
    "Value",
    "Probability %",
    "Expected value",
]


def deal_rows(forecast: RevenueForecast) -> Iterator[list]:
    rows = ForecastDeal.objects.filter(forecast=forecast).order_by("on_date", "title")
    for row in rows.iterator(chunk_size=2_000):
        yield [
            str(row.deal_id),
            row.title,
            row.stage_name,
            "won" if row.realized else "open",
            row.on_date.isoformat(),
            period_label(row.period_start, forecast.period_type),
            to_major_units(row.deal_value_cents, row.deal_currency),
            row.deal_currency,
            row.rate,
            _money(forecast, row.value_cents),
            row.probability,
            _money(forecast, row.expected_value_cents),
        ]


def _csv_rows(forecast: RevenueForecast) -> Iterator[list]:
    yield from summary_rows(forecast)
    yield []
    yield PERIOD_HEADER
    yield from period_rows(forecast)
    yield []
    yield DEAL_HEADER
    yield from deal_rows(forecast)


def forecast_csv(forecast: RevenueForecast) -> Iterator[bytes]:
    """Three blocks separated by a blank line: summary, periods, deals (`coop.spreadsheets`)."""
    return csv_stream(_csv_rows(forecast))


def forecast_xlsx(forecast: RevenueForecast) -> Iterator[bytes]:
    """A workbook with the sheets Summary, Periods and Deals (`coop.spreadsheets`)."""
    return xlsx_stream(
        [
            ("Summary", None, summary_rows(forecast)),
            ("Periods", PERIOD_HEADER, period_rows(forecast)),
            ("Deals", DEAL_HEADER, deal_rows(forecast)),
        ]
    )
