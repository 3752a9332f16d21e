from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self) -> None:
        from crm.signals import imported_deals_removing, won_deals_imported
        from finance import receivers  # noqa: F401  (connects the cache invalidation)
        from finance.services import revenue_book_imported_won_deals, revenue_unbook_imported_deals

        won_deals_imported.connect(
            _without_sender(revenue_book_imported_won_deals),
            dispatch_uid="finance-import-won",
            weak=False,
        )
        imported_deals_removing.connect(
            _without_sender(revenue_unbook_imported_deals),
            dispatch_uid="finance-import-undo",
            weak=False,
        )


def _without_sender(service):
    """A receiver that calls the keyword-only service with the signal's arguments."""

    def receiver(sender, signal=None, **kwargs):
        service(**kwargs)

    return receiver
