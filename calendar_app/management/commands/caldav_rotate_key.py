from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from calendar_app.caldav_sync import passwords_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored CalDAV app password with the first key of "
        "CALDAV_ENCRYPTION_KEY. Run after putting a new key in front of the old one; then the "
        "old key can be removed (docs/operations.md). Idempotent."
    )

    def handle(self, *args, **options) -> None:
        try:
            count = passwords_reencrypt()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            ngettext(
                "%(count)d password re-encrypted with the newest key.",
                "%(count)d passwords re-encrypted with the newest key.",
                count,
            )
            % {"count": count}
        )
