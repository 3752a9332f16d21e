from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from calendar_app.services import due_reminder_sender_register
        from coop.consent import consent_withdrawal_handler_register
        from coop.models import ConsentScope
        from crm import board_cache, receivers
        from crm.next_steps import task_reminders_send_due
        from crm.search import crm_search_providers_register
        from crm.services import deal_wellness_scores_clear

        receivers.connect()
        board_cache.connect()
        crm_search_providers_register()
        # Deals hold the wellness scores shared under this purpose.
        consent_withdrawal_handler_register(ConsentScope.DEAL_WELLNESS, deal_wellness_scores_clear)
        # Task reminders go out with the meetings' (`send_reminders`, the reminder task).
        due_reminder_sender_register(task_reminders_send_due)
