"""Answers shared by the dialogs of the calendar and the CRM (Schedule Meeting, move, cancel).

Under htmx a dialog's content is swapped into `#meeting-dialog-body`; without JavaScript the
same content is served as a page of its own.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import reswap, trigger_client_event

DIALOG_PAGE = "calendar_app/dialog_page.html"


def dialog(request: HttpRequest, template: str, context: dict, *, invalid: bool) -> HttpResponse:
    """The dialog content (htmx, always 200 so htmx swaps it) or a page holding it (400 when
    the submitted input was refused)."""
    if request.htmx:
        return render(request, template, context)
    return render(
        request,
        DIALOG_PAGE,
        {**context, "dialog_template": template},
        status=400 if invalid else 200,
    )


def changed(request: HttpRequest, *, event: str, message: str, redirect_to: str) -> HttpResponse:
    """Success: under htmx, nothing is swapped and `event` fires (the dialog closes, the
    timeline and the calendar reload themselves, the message is announced); otherwise a
    redirect with the message."""
    if request.htmx:
        response = reswap(HttpResponse(), "none")
        return trigger_client_event(response, event, {"message": message})
    messages.success(request, message)
    return redirect(redirect_to)
