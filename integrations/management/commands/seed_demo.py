import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from coop import demo as coop_demo
from crm import demo as crm_demo
from crm import meeting_demo
from finance import demo as finance_demo
from health import demo as health_demo

# Each module adds its demo data after the ones it builds on. A seeder is a function
# `seed(*, options: dict, log: Callable[[str], None]) -> None` that is idempotent.
DEMO_SEEDERS = [
    coop_demo.seed,
    health_demo.seed_reps,
    crm_demo.seed,
    finance_demo.seed,
    meeting_demo.seed,
    health_demo.seed,
]


# The CRM sizes of each scale (None: the CRM seeder's own defaults); other seeders read
# `options["scale"]` for theirs.
SCALES = {
    "small": {},
    "large": {"contacts": 20_000, "deals": 150_000, "interactions": 1_000_000},
    # The forecast's scale test: one deal in three is closed, so 1,000,000 open deals; the
    # timelines stay modest so that the seeding fits in minutes (benchmarks/forecast.py).
    "xlarge": {"contacts": 100_000, "deals": 1_500_000, "interactions": 100_000},
}
# Scales that only PostgreSQL loads in reasonable time and space.
POSTGRESQL_SCALES = {"xlarge"}


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


_count.__name__ = "count (a whole number >= 0)"


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
        for name, default, example in [
            ("contacts", 200, "10000"),
            ("deals", 400, "100000"),
            ("interactions", 4000, "1000000"),
        ]:
            parser.add_argument(
                f"--{name}",
                type=_count,
                default=None,
                help=f"Demo CRM {name} to have (default {default}; e.g. {example} for load tests).",
            )

        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            default="small",
            help="small: the demo (default); large: the benchmark data of `make bench` "
            "(PostgreSQL; 50 users in 10 teams, 20,000 contacts, 150,000 deals, "
            "1,000,000 interactions, 50,000 meetings, a year of check-ins); xlarge: the "
            "forecast's scale test (PostgreSQL only; as large, with 100,000 contacts, "
            "1,500,000 deals of which 1,000,000 open, 100,000 interactions).",
        )
        parser.add_argument(
            "--force-in-production",
            action="store_true",
            help="Seed even with DEBUG off (a scratch or benchmark database only): the demo "
            "users, a staff admin among them, all get the public DEMO_PASSWORD.",
        )

    def handle(self, *args, **options) -> None:
        """Refuses, writing nothing, with DEBUG off unless `--force-in-production`: a
        production database must never get the demo admin with the public password."""
        if not settings.DEBUG and not options["force_in_production"]:
            raise CommandError(
                _(
                    "DEBUG is off, so this may be a production database: seed_demo would add a "
                    "staff admin whose password is public. Run it with DEBUG=true, or add "
                    "--force-in-production if this database is a scratch one."
                )
            )
        if options["scale"] in POSTGRESQL_SCALES and connection.vendor != "postgresql":
            raise CommandError(
                _(
                    "--scale %(scale)s needs PostgreSQL (DATABASE_URL=postgres://...): it loads "
                    "%(deals)s deals, too many for %(vendor)s. Use --scale large or explicit "
                    "--deals/--contacts sizes."
                )
                % {
                    "scale": options["scale"],
                    "deals": f"{SCALES[options['scale']]['deals']:,}",
                    "vendor": connection.vendor,
                }
            )
        for name, size in SCALES[options["scale"]].items():
            if options[name] is None:
                options[name] = size
        started = time.monotonic()

        def log(message: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:6.1f} s] {message}")

        for seeder in DEMO_SEEDERS:
            seeder(options=options, log=log)
        if options["scale"] != "small" and connection.vendor == "postgresql":
            # After a bulk load: planner statistics, and the visibility map that lets
            # index-only scans skip the heap (autovacuum would get there, but later).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE)")
            log(_("Large scale: tables vacuumed and analyzed."))
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo login: http://127.0.0.1:8000/  user 'maria' (manager), 'rafael' (rep), "
                    "'fiona' (finance) or 'admin' (staff); password %(password)r"
                )
                % {"password": settings.DEMO_PASSWORD}
            )
        )
