"""Money, numbers and dates in the active language's conventions (Babel, Django's formats);
exports keep machine-readable numbers whatever the language."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.template import Context, Template
from django.utils import translation

from coop.money import format_money, format_number
from finance.exports import forecast_csv, forecast_xlsx
from tests.finance.factories import generate_forecast

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", f"1.234,56{NBSP}€"),
        ("fr", f"1{NNBSP}234,56{NBSP}€"),
        ("es", f"1.234,56{NBSP}€"),
        ("en-gb", "€1,234.56"),
    ],
)
def test_money_follows_the_active_language(language, expected):
    with translation.override(language):
        assert format_money(123_456, "EUR") == expected
        rendered = Template("{% load money %}{% money cents 'EUR' %}").render(
            Context({"cents": 123_456})
        )
    assert rendered == expected


@pytest.mark.parametrize(
    ("language", "cents", "currency", "expected"),
    [
        ("de", -500_000, "USD", f"-5.000,00{NBSP}$"),
        ("fr", 1_234_567, "CHF", f"12{NNBSP}345,67{NBSP}CHF"),
        ("en-gb", 99, "GBP", "£0.99"),
        ("de", 1234, "JPY", f"1.234{NBSP}¥"),
    ],
)
def test_money_keeps_each_currencys_minor_units_and_sign(language, cents, currency, expected):
    with translation.override(language):
        assert format_money(cents, currency) == expected
    assert format_money(None, currency) == "—"


def test_the_money_tag_renders_the_locale_format():
    template = Template("{% load money %}<b>{% money cents 'EUR' %}</b> {{ n|number }}")
    with translation.override("de"):
        html = template.render(Context({"cents": 123_456, "n": 12345.5}))
    assert html == f"<b>1.234,56{NBSP}€</b> 12.345,5"
    with translation.override("fr"):
        assert format_number(1234567) == f"1{NNBSP}234{NNBSP}567"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "5. März 2026"), ("fr", "5 mars 2026"), ("es", "5 de marzo de 2026")],
)
def test_dates_use_the_languages_month_names_and_order(language, expected):
    with translation.override(language):
        rendered = Template("{{ day|date }}").render(Context({"day": datetime.date(2026, 3, 5)}))
    assert rendered == expected


@pytest.fixture
def forecast(manager, team, make_deal):
    make_deal(value_cents=123_456_78, title="Solar roof")
    return generate_forecast(manager, team, name="Q1 plan")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "fr"])
def test_exports_keep_machine_readable_numbers_in_any_language(forecast, language):
    with translation.override(language):
        body = b"".join(forecast_csv(forecast)).decode("utf-8-sig")
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(forecast_xlsx(forecast))))
        total_label = translation.gettext("Expected total")
    assert total_label != "Expected total"  # the headers are in the reader's language
    rows = list(csv.reader(io.StringIO(body)))
    (total,) = [row[1] for row in rows if row[:1] == [total_label]]
    assert re.fullmatch(r"\d+\.\d\d", total), total
    assert "€" not in body and NBSP not in body
    summary_sheet = workbook.worksheets[0]
    summary = {row[0]: row[1] for row in summary_sheet.iter_rows(values_only=True)}
    assert summary[total_label] == float(total)
