from django import template

from coop.money import format_money, format_number

register = template.Library()


@register.simple_tag
def money(cents: int | None, currency: str) -> str:
    """{% money deal.value_cents deal.currency %} → '€1,234.56', '1.234,56 €' in German."""
    return format_money(cents, currency)


@register.filter
def number(value: int | float | None) -> str:
    """{{ count|number }} → '12,345' in English, '12.345' in German, '12 345' in French."""
    return format_number(value)
