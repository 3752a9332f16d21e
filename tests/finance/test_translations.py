"""The finance pages in Spanish, French and German: the forecast page fully translated, its
money in the locale's format, and the export's headers translated with numbers kept as
numbers."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation

from crm.models import DealStatus
from finance.services import forecast_export
from tests.catalogues import compile_catalogues, page_in
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db

# English that would show on the forecast page if a string were left unmarked.
ENGLISH = [
    "Expected revenue",
    "Already won",
    "Open deals, weighted",
    "Period</th>",
    "Actual revenue",
    "How the interval is computed",
    "Stage win probabilities",
    "Save as scenario",
    "Deals in this forecast",
    "Export CSV",
    "What if",
    "win probability",
    "Revenue = realized",
    "Weighted pipeline",
]

EXPECTED = {
    "de": [
        "Erwarteter Umsatz",
        "Bereits gewonnen",
        "Als Szenario speichern",
        "Gewinnwahrscheinlichkeit",
    ],
    "fr": [
        "Chiffre d'affaires attendu",
        "Déjà gagné",
        "Enregistrer comme scénario",
        "probabilité de gain",
    ],
    "es": ["Ingresos esperados", "Ya ganado", "Guardar como escenario", "probabilidad de ganar"],
}


@pytest.fixture(autouse=True)
def catalogues():
    compile_catalogues(("finance",))


@pytest.fixture
def forecast(make_deal, manager, team):
    make_deal(status=DealStatus.WON, value_cents=100_000)
    make_deal(value_cents=200_000)
    return generate_forecast(manager, team)


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_the_forecast_page_is_translated(client, manager, forecast, language):
    page = page_in(client, manager, reverse("finance:detail", args=[forecast.pk]), language)
    for words in EXPECTED[language]:
        assert words in page
    for words in ENGLISH:
        assert words not in page, words


def test_the_export_headers_are_translated_and_the_numbers_stay_numbers(manager, forecast):
    with translation.override("de"):
        text = b"".join(forecast_export(actor=manager, forecast=forecast, file_format="csv"))
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    summary = dict(row for row in rows if len(row) == 2)
    assert summary["Prognose"] == forecast.name
    assert summary["Erwartete Summe"] == "2000.00"  # 1,000 won + 2,000 at 50 %, a plain number
    assert next(row[:5] for row in rows if row and row[0] == "Zeitraum") == [
        "Zeitraum",
        "Von",
        "Bis",
        "Deals",
        "Erwartet",
    ]
