from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = "Finance"

    def ready(self) -> None:
        from finance import receivers  # noqa: F401  (connects the cache invalidation)
