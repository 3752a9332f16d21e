"""Outgoing calendar email: invitations with an .ics attachment and reminder messages.

Called from `transaction.on_commit` callbacks only, so nothing is sent for a rolled-back write.
Each message is written in its recipient's language (`coop.i18n.in_language_of`): a person's
own setting; a guest without an account gets the organizer's, the language they deal in.
Subjects are made one line (`coop.validators.one_line`): a title stored with a line break
before the services refused them would otherwise make Django refuse every email about it.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from calendar_app import ics
from calendar_app.models import Event, Notification
from coop.i18n import in_language_of
from coop.validators import one_line

SUBJECT_PREFIX = {
    "REQUEST": gettext_lazy("Invitation"),
    "UPDATE": gettext_lazy("Updated invitation"),
    "CANCEL": pgettext_lazy("an email subject: a cancelled meeting", "Cancelled"),
}


def send_invitations(*, event_id, update: bool = False) -> int:
    """Email each guest who was invited the event's current state; return the count.

    A cancelled event goes out as METHOD:CANCEL, anything else as METHOD:REQUEST; the event's
    SEQUENCE (raised by every change) lets calendar programs replace the earlier copy.
    """
    event = Event.objects.select_related("organizer").get(pk=event_id)
    attendees = list(event.attendees.select_related("user"))
    method = "CANCEL" if event.is_cancelled else "REQUEST"
    kind = "CANCEL" if event.is_cancelled else ("UPDATE" if update else "REQUEST")
    document = ics.invitation(event, attendees, method=method)
    sent = 0
    for attendee in attendees:
        if not attendee.is_guest or attendee.invited_at is None or not attendee.guest_email:
            continue
        recipient = attendee.user if attendee.user_id else event.organizer
        with timezone.override(event.organizer.zone), in_language_of(recipient):
            body = render_to_string(
                "calendar_app/email/invitation.txt",
                {"event": event, "kind": kind, "recipient": attendee.guest_name},
            )
            subject = one_line(
                gettext("%(prefix)s: %(title)s")
                % {"prefix": SUBJECT_PREFIX[kind], "title": event.title}
            )
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[attendee.guest_email],
            reply_to=[event.organizer.email] if event.organizer.email else None,
        )
        message.attach(
            "cancel.ics" if method == "CANCEL" else "invite.ics",
            document,
            f"text/calendar; method={method}; charset=utf-8",
        )
        message.send()
        sent += 1
    return sent


def send_notification_emails(*, notification_ids: list) -> int:
    """Email the given in-app notifications to their users (those with an address); return
    how many were sent."""
    sent = 0
    for notification in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        if not notification.user.email:
            continue
        EmailMessage(
            subject=one_line(notification.title),
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.user.email],
        ).send()
        sent += 1
    return sent
