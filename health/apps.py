from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = gettext_lazy("Health")

    def ready(self) -> None:
        from coop.consent import consent_withdrawal_handler_register
        from coop.models import ConsentScope
        from health.services import sales_health_metrics_erase

        # `sales_health_metrics` rows exist under this purpose only.
        consent_withdrawal_handler_register(ConsentScope.TEAM_INSIGHTS, sales_health_metrics_erase)
