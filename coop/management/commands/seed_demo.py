from django.conf import settings
from django.core.management.base import BaseCommand

from coop.demo import DEMO_TEAM, seed_core


class Command(BaseCommand):
    help = (
        "Load demo data (a team, its people and a staff admin) and print the demo login. "
        "Idempotent: a second run changes nothing."
    )

    def handle(self, *args, **options) -> None:
        _team, users, created = seed_core()
        self.stdout.write(f"Demo team {DEMO_TEAM!r}: {created} new user(s), {len(users)} in all.")
        self.stdout.write(
            self.style.SUCCESS(
                "Demo login: http://127.0.0.1:8000/  user 'maria' (manager), 'rafael' (rep), "
                f"'fiona' (finance) or 'admin' (staff); password {settings.DEMO_PASSWORD!r}"
            )
        )
