from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from health.services import insights_publish, rollup_range
from health.tasks import rollup_sales_health

MAX_DAYS = 366 * 2


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            gettext("%(text)r is not a date: use YYYY-MM-DD.") % {"text": value}
        ) from error


class Command(BaseCommand):
    help = (
        "Fill sales_health_metrics from check-ins and CRM activity for every team member who "
        "allows team wellness insights (rows of anyone else are removed), then publish the "
        "team insights of the weeks that have ended. Without options: yesterday. Idempotent: "
        "re-running a day gives the same rows, and a published week never changes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--date", help="One day, YYYY-MM-DD.")
        group.add_argument("--since", help="Every day from YYYY-MM-DD up to today.")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue one task per day for the workers (with retries) instead of running here.",
        )

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        if options["date"]:
            start = end = iso_date(options["date"])
        elif options["since"]:
            start, end = iso_date(options["since"]), today
        else:
            start = end = today - timedelta(days=1)
        if start > today:
            raise CommandError(
                gettext("%(start)s is in the future: there is nothing to roll up yet.")
                % {"start": start}
            )
        if (end - start).days >= MAX_DAYS:
            raise CommandError(
                gettext("At most %(max)d days at a time; split the range.") % {"max": MAX_DAYS}
            )
        if options["enqueue"]:
            day = start
            while day <= end:
                rollup_sales_health.enqueue(day.isoformat())
                day += timedelta(days=1)
            days = (end - start).days + 1
            self.stdout.write(
                ngettext(
                    "Rollup of %(start)s to %(end)s queued (%(days)d day).",
                    "Rollup of %(start)s to %(end)s queued (%(days)d days).",
                    days,
                )
                % {"start": start, "end": end, "days": days}
            )
            return
        result = rollup_range(start=start, end=end)
        publication = insights_publish()
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "sales_health_metrics %(start)s to %(end)s: %(written)d row(s) written, "
                    "%(removed)d removed; %(published)d team week(s) published."
                )
                % {
                    "start": start,
                    "end": end,
                    "written": result.written,
                    "removed": result.removed,
                    "published": publication.published,
                }
            )
        )
