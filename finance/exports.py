"""A forecast as CSV or XLSX for planning tools: summary, periods with intervals, deals.

Amounts are written as numbers in major units; formulas are neutralised and both files are
streamed while the deals are read (`.iterator()`) by `coop.spreadsheets`.
"""

from collections.abc import Iterator
from decimal import Decimal

from django.utils.translation import gettext, pgettext

from coop.money import to_major_units
from coop.spreadsheets import csv_stream, xlsx_stream
from finance.forecasting import interval_model_text
from finance.models import ForecastBucket, ForecastDeal, RevenueForecast
from finance.periods import period_label


def _money(forecast: RevenueForecast, cents: int) -> Decimal:
    return to_major_units(cents, forecast.currency)


def summary_rows(forecast: RevenueForecast) -> list[list]:
    interval = forecast.confidence_interval
    total = interval["total"]
    money = forecast.currency
    return [
        [gettext("Forecast"), forecast.name],
        [gettext("Scope"), str(forecast.scope_user or forecast.team)],
        [gettext("Team"), str(forecast.team)],
        [gettext("Periods"), forecast.get_period_type_display()],
        [gettext("From"), forecast.start_date.isoformat()],
        [gettext("To"), forecast.end_date.isoformat()],
        [gettext("Made on"), forecast.forecast_date.isoformat()],
        [gettext("Currency"), money],
        [gettext("Expected total"), _money(forecast, forecast.total_expected_cents)],
        [gettext("Realized"), _money(forecast, forecast.realized_cents)],
        ["P10", _money(forecast, total["p10"])],
        ["P50", _money(forecast, total["p50"])],
        ["P90", _money(forecast, total["p90"])],
        # xgettext:no-python-format
        [gettext("95 % interval low"), _money(forecast, total["low95"])],
        # xgettext:no-python-format
        [gettext("95 % interval high"), _money(forecast, total["high95"])],
        [gettext("Interval method"), interval["method"]],
        [gettext("Interval model"), interval_model_text(interval["model"])],
    ]


def period_header() -> list[str]:
    """The periods block's header, in the active language (the cells below stay numbers)."""
    return [
        gettext("Period"),
        gettext("From"),
        gettext("To"),
        gettext("Deals"),
        gettext("Expected"),
        gettext("Realized"),
        "P10",
        "P50",
        "P90",
        # xgettext:no-python-format
        gettext("95 % low"),
        # xgettext:no-python-format
        gettext("95 % high"),
        gettext("Method"),
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


def deal_header() -> list[str]:
    """The deals block's header, in the active language."""
    return [
        gettext("Deal id"),
        gettext("Deal"),
        gettext("Stage"),
        gettext("Status"),
        gettext("Date"),
        gettext("Period"),
        gettext("Deal value"),
        gettext("Deal currency"),
        gettext("Rate"),
        gettext("Value"),
        gettext("Probability %"),
        gettext("Expected value"),
    ]


def deal_rows(forecast: RevenueForecast) -> Iterator[list]:
    """The deals block. Its words are looked up now, in the language of the request or
    command; the rows are made later, while the file streams."""
    won, still_open = pgettext("deal status", "won"), pgettext("deal status", "open")
    return _deal_rows(forecast, won, still_open)


def _deal_rows(forecast: RevenueForecast, won: str, still_open: str) -> Iterator[list]:
    rows = ForecastDeal.objects.filter(forecast=forecast).order_by("on_date", "title")
    for row in rows.iterator(chunk_size=2_000):
        yield [
            str(row.deal_id),
            row.title,
            row.stage_name,
            won if row.realized else still_open,
            row.on_date.isoformat(),
            period_label(row.period_start, forecast.period_type),
            to_major_units(row.deal_value_cents, row.deal_currency),
            row.deal_currency,
            row.rate,
            _money(forecast, row.value_cents),
            row.probability,
            _money(forecast, row.expected_value_cents),
        ]


def _csv_rows(forecast: RevenueForecast, summary: list[list], headers: tuple) -> Iterator[list]:
    yield from summary
    yield []
    yield headers[0]
    yield from period_rows(forecast)
    yield []
    yield headers[1]
    yield from deal_rows(forecast)


def forecast_csv(forecast: RevenueForecast) -> Iterator[bytes]:
    """Three blocks separated by a blank line: summary, periods, deals (`coop.spreadsheets`).
    The words are in the language active now (headers translated, numbers left as numbers)."""
    headers = (period_header(), deal_header())
    return csv_stream(_csv_rows(forecast, summary_rows(forecast), headers))


def forecast_xlsx(forecast: RevenueForecast) -> Iterator[bytes]:
    """A workbook with the sheets Summary, Periods and Deals (`coop.spreadsheets`)."""
    return xlsx_stream(
        [
            (pgettext("sheet name", "Summary"), None, summary_rows(forecast)),
            (pgettext("sheet name", "Periods"), period_header(), period_rows(forecast)),
            (pgettext("sheet name", "Deals"), deal_header(), deal_rows(forecast)),
        ]
    )
