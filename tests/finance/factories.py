import datetime
from decimal import Decimal

import factory

from finance.models import ExchangeRate, RevenueEntry, RevenueSource, RevenueTarget
from finance.periods import PeriodType
from finance.services import forecast_generate
from tests.coop.factories import TeamFactory


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    date = datetime.date(2026, 1, 1)
    base = "USD"
    quote = "EUR"
    rate = Decimal("0.9")


class RevenueEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueEntry

    team = factory.SubFactory(TeamFactory)
    booked_on = datetime.date(2026, 1, 15)
    amount_cents = 100_000
    currency = "EUR"
    source = RevenueSource.MANUAL
    description = factory.Sequence(lambda n: f"Revenue {n}")


class RevenueTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueTarget

    team = factory.SubFactory(TeamFactory)
    period_type = PeriodType.MONTHLY
    period_start = datetime.date(2026, 1, 1)
    amount_cents = 1_000_000
    currency = "EUR"


Q1_START, Q1_END = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)


def generate_forecast(actor, team, **options):
    """A forecast made through the service: monthly over Q1 2026 in EUR for the whole team,
    unless `options` say otherwise."""
    return forecast_generate(
        **{
            "actor": actor,
            "team": team,
            "scope_user": None,
            "period_type": PeriodType.MONTHLY,
            "start": Q1_START,
            "end": Q1_END,
            "currency": "EUR",
            **options,
        }
    )
