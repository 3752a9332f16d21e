"""Answers shared by the dialogs of the calendar and the CRM (Schedule Meeting, move, cancel).

Under htmx a dialog's content is swapped into `#meeting-dialog-body`; without JavaScript the
same content is served as a page of its own.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django_htmx.http import reswap, trigger_client_event

from calendar_app.services import ConflictError

DIALOG_PAGE = "calendar_app/dialog_page.html"
ERROR_DIALOG = "calendar_app/partials/error_dialog.html"


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


def attempt[T](form: Form, write: Callable[[], T]) -> tuple[T | None, list]:
    """Run a write service for a dialog: its result, or None with the conflicting events (the
    dialog then asks "anyway?"), or None after putting a validation error on the form."""
    try:
        return write(), []
    except ConflictError as error:
        return None, error.conflicts
    except ValidationError as error:
        form.add_error(None, error)
        return None, []


def cancelled(
    request: HttpRequest, cancel: Callable[[], object], *, title: str, redirect_to: str
) -> HttpResponse:
    """Run a cancel service: success as `changed`, a refusal explained in the dialog."""
    try:
        cancel()
    except ValidationError as error:
        context = {
            "heading": gettext("The meeting was not cancelled"),
            "errors": error.messages,
        }
        return dialog(request, ERROR_DIALOG, context, invalid=True)
    return changed(
        request,
        event="meetingChanged",
        message=gettext("“%(title)s” cancelled.") % {"title": title},
        redirect_to=redirect_to,
    )
