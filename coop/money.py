"""Money: integer minor units (cents) plus an ISO 4217 code. Never floats.

One rounding rule for the whole project: half-even (banker's rounding), applied once where a
fractional amount of cents appears (probability weighting, currency conversion).
"""

from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import NumberPattern, format_decimal
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# ISO 4217 minor-unit exponents that differ from the usual 2.
MINOR_UNIT_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3}

CURRENCY_CHOICES = [
    ("EUR", _("EUR — Euro")),
    ("USD", _("USD — US dollar")),
    ("GBP", _("GBP — Pound sterling")),
    ("CHF", _("CHF — Swiss franc")),
    ("CAD", _("CAD — Canadian dollar")),
    ("JPY", _("JPY — Japanese yen")),
]


def minor_unit_exponent(currency: str) -> int:
    return MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)


def round_half_even(value: Decimal) -> int:
    """Round a Decimal amount of minor units to an integer, half to even."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Major units (e.g. Decimal('12.34') EUR) to minor units (1234), half-even."""
    return round_half_even(amount * (Decimal(10) ** minor_unit_exponent(currency)))


def to_major_units(cents: int, currency: str) -> Decimal:
    return Decimal(cents).scaleb(-minor_unit_exponent(currency))


def babel_locale() -> str:
    """The active language as a Babel locale ("de", "fr", "en_GB"); the site's default outside
    a request (e.g. in a management command)."""
    return translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)


def format_money(cents: int | None, currency: str, locale: str | None = None) -> str:
    """Display text for an amount, in the active language's conventions (Babel, from CLDR):
    '€1,234.56' in English, '1.234,56 €' in German, '1 234,56 €' in French (a narrow no-break
    space groups the thousands). Exact, from integers; for people only: exports write the
    plain number."""
    if cents is None:
        return "—"
    return _formatted(cents, currency.upper(), locale or babel_locale())


@cache
def _currency_format(locale: str) -> tuple[Locale, NumberPattern]:
    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]


# Babel's formatting costs about ten times an f-string's (benchmarks/RESULTS.md, "Locale
# formats"); a page repeats its totals and round amounts, so recent results are kept.
@lru_cache(maxsize=8192)
def _formatted(cents: int, currency: str, locale: str) -> str:
    parsed, pattern = _currency_format(locale)
    amount = to_major_units(cents, currency)
    return pattern.apply(amount, parsed, currency=currency, currency_digits=True)


def format_number(value: int | float | Decimal | None, locale: str | None = None) -> str:
    """A number for display in the active language's conventions ('1.234,5' in German)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=locale or babel_locale())
