from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils.translation import gettext, ngettext

from calendar_app.caldav_sync import RETRIED_ERRORS, account_sync, accounts_claim_due
from calendar_app.tasks import sync_caldav_account


class Command(BaseCommand):
    help = (
        "Sync the connected CalDAV accounts whose turn has come (every "
        "CALDAV_SYNC_INTERVAL_MINUTES): push pending meetings, pull busy times and external "
        "changes. Cron-safe: each due account is claimed once, however many hosts run this."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing when no account was due."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one task per account for the workers (retried with back-off on "
            "network errors) instead of syncing here.",
        )

    def handle(self, *args, **options) -> None:
        try:
            due = accounts_claim_due()
        except DatabaseError as error:
            raise CommandError(
                gettext("Could not read the accounts: %(error)s") % {"error": error}
            ) from error
        failed = 0
        for account_id in due:
            if options["enqueue"]:
                sync_caldav_account.enqueue(account_id)
                continue
            try:
                account_sync(account_id=account_id)
            except RETRIED_ERRORS:
                failed += 1  # recorded on the account; its next turn tries again
        if failed:
            self.stderr.write(
                ngettext(
                    "%(count)d account could not be reached.",
                    "%(count)d accounts could not be reached.",
                    failed,
                )
                % {"count": failed}
            )
        if due or not options["quiet"]:
            count = len(due)
            if options["enqueue"]:
                words = ngettext(
                    "%(count)d calendar account queued.",
                    "%(count)d calendar accounts queued.",
                    count,
                )
            else:
                words = ngettext(
                    "%(count)d calendar account synced.",
                    "%(count)d calendar accounts synced.",
                    count,
                )
            self.stdout.write(words % {"count": count})
