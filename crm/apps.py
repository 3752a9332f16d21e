from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from coop.consent import consent_withdrawal_handler_register
        from coop.models import ConsentScope
        from crm import receivers
        from crm.services import deal_wellness_scores_clear

        receivers.connect()
        # Deals hold the wellness scores shared under this purpose.
        consent_withdrawal_handler_register(ConsentScope.DEAL_WELLNESS, deal_wellness_scores_clear)
