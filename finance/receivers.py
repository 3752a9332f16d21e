"""Keep the cached finance aggregates honest: any saved or deleted deal, revenue entry,
target, exchange rate or forecast invalidates them (coop/cache.py), whichever module or
the admin made the change. Bulk writes that skip signals call `aggregates_changed` itself."""

from django.db.models.signals import post_delete, post_save

from coop.cache import aggregates_changed
from crm.models import Deal
from finance.models import ExchangeRate, RevenueEntry, RevenueForecast, RevenueTarget

FINANCE_AGGREGATES = "finance"
_SOURCES = (Deal, RevenueEntry, RevenueTarget, ExchangeRate, RevenueForecast)


def finance_source_changed(sender, **kwargs) -> None:
    aggregates_changed(FINANCE_AGGREGATES)


for _model in _SOURCES:
    post_save.connect(finance_source_changed, sender=_model, dispatch_uid=f"finance-{_model}")
    post_delete.connect(finance_source_changed, sender=_model, dispatch_uid=f"finance-d-{_model}")
