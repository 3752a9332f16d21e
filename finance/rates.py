"""Currency conversion with the finance module's exchange rates.

The rate in effect on a day is the latest one dated on or before that day, taken directly
(base -> quote) or inverted (quote -> base), whichever is more recent (the direct one when both
are of that day). A conversion without
any such rate is an error that names the pair and the day.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext

from coop.money import to_major_units, to_minor_units
from finance.models import ExchangeRate

RATE_PLACES = Decimal("1e-10")


class MissingRateError(ValidationError):
    def __init__(self, base: str, quote: str, on: datetime.date):
        self.base, self.quote, self.on = base, quote, on
        super().__init__(
            gettext(
                "No exchange rate from %(base)s to %(quote)s on or before %(day)s: "
                "import one (manage.py import_exchange_rates) or add it in the admin."
            )
            % {"base": base, "quote": quote, "day": on.isoformat()}
        )


class RateTable:
    """Rates loaded once (one query) and looked up in memory."""

    def __init__(self, rows: Iterable[tuple[datetime.date, str, str, Decimal]]):
        # (day, 1 for a direct rate or 0 for an inverted one, rate): on a day with both, the
        # direct one sorts last and is the one in effect.
        self._series: dict[tuple[str, str], list[tuple[datetime.date, int, Decimal]]] = defaultdict(
            list
        )
        for day, base, quote, rate in rows:
            self._series[(base, quote)].append((day, 1, rate))
            # Rounded to the stored precision, so a forecast's saved rate is the one it used.
            inverted = (Decimal(1) / rate).quantize(RATE_PLACES)
            self._series[(quote, base)].append((day, 0, inverted))
        for series in self._series.values():
            series.sort(key=lambda item: item[:2])
        self._days = {pair: [item[0] for item in series] for pair, series in self._series.items()}

    @classmethod
    def load(cls, currencies: Iterable[str], report_currency: str, until: datetime.date):
        others = sorted(set(currencies) - {report_currency})
        if not others:
            return cls([])
        rows = ExchangeRate.objects.filter(
            Q(base__in=others, quote=report_currency) | Q(base=report_currency, quote__in=others),
            date__lte=until,
        ).values_list("date", "base", "quote", "rate")
        return cls(rows)

    def rate(self, base: str, quote: str, on: datetime.date) -> Decimal:
        """Units of `quote` for one unit of `base` in effect on `on`."""
        if base == quote:
            return Decimal(1)
        days = self._days.get((base, quote), [])
        index = bisect.bisect_right(days, on)
        if index == 0:
            raise MissingRateError(base, quote, on)
        return self._series[(base, quote)][index - 1][2]


def convert_minor(cents: int, from_currency: str, to_currency: str, rate: Decimal) -> int:
    """Minor units of `from_currency` to minor units of `to_currency` at `rate`, half-even."""
    if from_currency == to_currency:
        return cents
    return to_minor_units(to_major_units(cents, from_currency) * rate, to_currency)


def scaled(rate: Decimal, percent: Decimal) -> Decimal:
    """A rate moved by `percent` (e.g. -10 for a 10 % fall of the foreign currency)."""
    return (rate * (Decimal(100) + percent) / Decimal(100)).quantize(RATE_PLACES)
