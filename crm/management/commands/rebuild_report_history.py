from django.core.management.base import BaseCommand

from crm.services import report_history_rebuild


class Command(BaseCommand):
    help = (
        "Recompute what the Reports keep, in one transaction: each stage change's pipeline and "
        "the end of the stay it began, from the stage history, and the activity totals per "
        "team, person and day, from the timeline and the tasks. Every writer keeps them; this "
        "repairs rows written behind the services' back (raw SQL, restored backups). "
        "Idempotent: prints how many stage changes were wrong (0 when none) and the totals."
    )

    def handle(self, *args, **options) -> None:
        corrected, totals = report_history_rebuild()
        self.stdout.write(
            self.style.SUCCESS(
                f"{corrected} stage change(s) corrected; {totals} activity total(s) recounted."
            )
        )
