"""Money: integer minor units (cents) plus an ISO 4217 code. Never floats.

One rounding rule for the whole project: half-even (banker's rounding), applied once where a
fractional amount of cents appears (probability weighting, currency conversion).
"""

from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 minor-unit exponents that differ from the usual 2.
MINOR_UNIT_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}

CURRENCY_CHOICES = [
    ("EUR", "EUR — Euro"),
    ("USD", "USD — US dollar"),
    ("GBP", "GBP — Pound sterling"),
    ("CHF", "CHF — Swiss franc"),
    ("CAD", "CAD — Canadian dollar"),
    ("JPY", "JPY — Japanese yen"),
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


def format_money(cents: int | None, currency: str) -> str:
    """'€1,234.56' style text for display; exact, from integers."""
    if cents is None:
        return "—"
    exponent = minor_unit_exponent(currency)
    amount = to_major_units(abs(cents), currency)
    text = f"{amount:,.{exponent}f}"
    sign = "-" if cents < 0 else ""
    symbol = _SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"
