"""The deal admin with the close actions: closing touches CRM, finance and health, so the
actions that call `deal_close` are added here, above those modules, to the CRM's own deal
admin (`crm.admin.DealAdmin`), which replaces it in the admin site."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.admin import DealAdmin
from crm.models import Deal
from integrations.deal_closing import deal_close


def _close_selected(modeladmin, request: HttpRequest, queryset: QuerySet[Deal], *, won: bool):
    closed = 0
    for deal in queryset:
        try:
            deal_close(actor=request.user, deal=deal, won=won)
        except ValidationError as error:
            modeladmin.message_user(
                request, f"{deal.title}: {' '.join(error.messages)}", messages.WARNING
            )
        else:
            closed += 1
    modeladmin.message_user(request, f"{closed} deal(s) closed as {'won' if won else 'lost'}.")


class ClosingDealAdmin(DealAdmin):
    actions = ["close_as_won", "close_as_lost"]

    @admin.action(description="Close selected deals as won")
    def close_as_won(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        _close_selected(self, request, queryset, won=True)

    @admin.action(description="Close selected deals as lost")
    def close_as_lost(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        _close_selected(self, request, queryset, won=False)


admin.site.unregister(Deal)
admin.site.register(Deal, ClosingDealAdmin)
