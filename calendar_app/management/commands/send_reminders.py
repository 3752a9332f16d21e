from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext, ngettext

from calendar_app.services import reminders_send_due
from calendar_app.tasks import send_due_reminders


class Command(BaseCommand):
    help = (
        "Send the meeting reminders that are due (before each meeting, and the follow-up "
        "after it) by email and as in-app notifications. Cron-safe and idempotent: "
        "concurrent or repeated runs never send a reminder twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing when no reminder was due."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the send as a task for the workers (with retries) instead of sending here.",
        )

    def handle(self, *args, **options) -> None:
        if options["enqueue"]:
            send_due_reminders.enqueue()
            if not options["quiet"]:
                self.stdout.write(gettext("Reminder run queued."))
            return
        try:
            sent = reminders_send_due()
        except DatabaseError as error:
            raise CommandError(
                gettext("Could not send reminders: %(error)s") % {"error": error}
            ) from error
        if sent or not options["quiet"]:
            self.stdout.write(
                ngettext("%(count)d reminder sent.", "%(count)d reminders sent.", sent)
                % {"count": sent}
            )
