from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.module_loading import import_string

# Each module adds its demo data after the ones it builds on. A seeder is a function
# `seed(*, options: dict, log: Callable[[str], None]) -> None` that is idempotent.
DEMO_SEEDERS = [
    "coop.demo.seed",
    "finance.demo.seed",
]


class Command(BaseCommand):
    help = (
        "Load demo data for every module (a team, its people in every role and a staff admin, "
        "then each module's records) and print the demo login. Idempotent: a second run "
        "changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed: the same seed, the same data."
        )

    def handle(self, *args, **options) -> None:
        for path in DEMO_SEEDERS:
            import_string(path)(options=options, log=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo login: http://127.0.0.1:8000/  user 'maria' (manager), 'rafael' (rep), "
                f"'fiona' (finance) or 'admin' (staff); password {settings.DEMO_PASSWORD!r}"
            )
        )
