from django import template

from coop.money import format_money

register = template.Library()


@register.simple_tag
def money(cents: int | None, currency: str) -> str:
    """{% money deal.value_cents deal.currency %} → '€1,234.56'."""
    return format_money(cents, currency)
