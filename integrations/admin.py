"""The deal admin with the close actions: closing touches CRM, finance and health, so the
actions that call `deal_close` are added here, above those modules, to the CRM's own deal
admin (`crm.admin.DealAdmin`), which replaces it in the admin site."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin import DealAdmin
from crm.models import Deal, LostReason
from integrations.deal_closing import deal_close, deal_reopen


class ClosingActionForm(ActionForm):
    """The lost reason (by name, matched in each deal's team) closing as lost requires."""

    lost_reason = forms.CharField(
        required=False, max_length=120, help_text=_("Lost reason, for “Close as lost”.")
    )


def _close_selected(modeladmin, request: HttpRequest, queryset: QuerySet[Deal], *, won: bool):
    closed = 0
    reason_name = request.POST.get("lost_reason", "").strip()
    for deal in queryset.select_related("pipeline"):
        reason = (
            None
            if won
            else LostReason.objects.filter(
                team_id=deal.pipeline.team_id, archived=False, name__iexact=reason_name
            ).first()
        )
        try:
            deal_close(actor=request.user, deal=deal, won=won, lost_reason=reason)
        except ValidationError as error:
            modeladmin.message_user(
                request, f"{deal.title}: {' '.join(error.messages)}", messages.WARNING
            )
        else:
            closed += 1
    modeladmin.message_user(
        request,
        (
            ngettext("%(count)d deal closed as won.", "%(count)d deals closed as won.", closed)
            if won
            else ngettext(
                "%(count)d deal closed as lost.", "%(count)d deals closed as lost.", closed
            )
        )
        % {"count": closed},
    )


class ClosingDealAdmin(DealAdmin):
    actions = ["close_as_won", "close_as_lost", "reopen"]
    action_form = ClosingActionForm

    @admin.action(description=_("Close selected deals as won"))
    def close_as_won(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        _close_selected(self, request, queryset, won=True)

    @admin.action(description=_("Close selected deals as lost"))
    def close_as_lost(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        _close_selected(self, request, queryset, won=False)

    @admin.action(description=_("Reopen selected closed deals (managers; removes booked revenue)"))
    def reopen(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        reopened = 0
        for deal in queryset:
            try:
                deal_reopen(actor=request.user, deal=deal)
            except ValidationError as error:
                self.message_user(
                    request, f"{deal.title}: {' '.join(error.messages)}", messages.WARNING
                )
            else:
                reopened += 1
        self.message_user(
            request,
            ngettext("%(count)d deal reopened.", "%(count)d deals reopened.", reopened)
            % {"count": reopened},
        )


admin.site.unregister(Deal)
admin.site.register(Deal, ClosingDealAdmin)
