from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from coop.consent import consent_withdrawal_handler_register
        from coop.models import ConsentScope
        from crm import receivers
        from crm.search import crm_search_providers_register
        from crm.services import deal_wellness_scores_clear

        receivers.connect()
        crm_search_providers_register()
        # Deals hold the wellness scores shared under this purpose.
        consent_withdrawal_handler_register(ConsentScope.DEAL_WELLNESS, deal_wellness_scores_clear)
