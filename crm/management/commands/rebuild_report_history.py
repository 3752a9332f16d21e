from django.core.management.base import BaseCommand

from crm.services import report_history_rebuild


class Command(BaseCommand):
    help = (
        "Recompute what the Reports keep with the stage history (each change's pipeline and "
        "the end of the stay it began) from the history itself, in one transaction. Every "
        "writer keeps them; this repairs rows written behind the services' back (raw SQL, "
        "restored backups). Idempotent: prints how many rows were wrong (0 when none)."
    )

    def handle(self, *args, **options) -> None:
        corrected = report_history_rebuild()
        self.stdout.write(self.style.SUCCESS(f"{corrected} stage change(s) corrected."))
