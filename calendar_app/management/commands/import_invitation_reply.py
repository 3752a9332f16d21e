import email
import email.policy
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext, ngettext

from calendar_app.services import invitation_reply_apply

MAX_BYTES = 5 * 2**20


def _calendars(raw: bytes) -> list[bytes]:
    """The iCalendar documents in an email (its text/calendar parts), or the file itself."""
    if raw.lstrip().upper().startswith(b"BEGIN:VCALENDAR"):
        return [raw]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return [
        part.get_payload(decode=True) or b""
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]


class Command(BaseCommand):
    help = (
        "Record guests' replies to meeting invitations: reads an email (or an .ics) holding an "
        "iTIP METHOD:REPLY and sets each attendee's RSVP. Made to be fed by the mail server "
        "(e.g. an alias piping the reply address into `manage.py import_invitation_reply -`). "
        "Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the email or .ics file, or - for standard input")

    def handle(self, *args, **options) -> None:
        source = options["source"]
        try:
            if source == "-":
                raw = sys.stdin.buffer.read(MAX_BYTES + 1)
            else:
                with Path(source).open("rb") as file:
                    raw = file.read(MAX_BYTES + 1)
        except (OSError, ValueError) as error:
            raise CommandError(
                gettext("Cannot read %(source)s: %(error)s") % {"source": source, "error": error}
            ) from error
        if len(raw) > MAX_BYTES:
            raise CommandError(gettext("The message is larger than 5 MiB."))
        documents = _calendars(raw)
        if not documents:
            raise CommandError(gettext("No iCalendar reply found in the message."))
        changed = 0
        for document in documents:
            try:
                changed += invitation_reply_apply(ical=document)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            ngettext("%(count)d reply recorded.", "%(count)d replies recorded.", changed)
            % {"count": changed}
        )
