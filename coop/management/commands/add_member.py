import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from coop.models import Role
from coop.services import member_add


class Command(BaseCommand):
    help = (
        "Create a user and add them to a team with a role. The password comes from the "
        "environment variable named by --password-env, or is prompted for."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--team", required=True, help="Team name (created when missing).")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        parser.add_argument("--email", default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Read the password from this environment variable instead of prompting.",
        )

    def handle(self, *args, **options) -> None:
        password = self._password(options["password_env"])
        try:
            membership = member_add(
                username=options["username"],
                team_name=options["team"],
                role=options["role"],
                email=options["email"],
                display_name=options["display_name"],
                password=password,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("Added %(user)s to %(team)s as %(role)s.")
                % {
                    "user": membership.user.username,
                    "team": membership.team.name,
                    "role": membership.get_role_display(),
                }
            )
        )

    def _password(self, variable: str | None) -> str:
        if variable:
            value = os.environ.get(variable)
            if not value:
                raise CommandError(
                    _("The environment variable %(name)s is not set or is empty.")
                    % {"name": variable}
                )
            return value
        if not self.stdin_is_interactive():
            raise CommandError(_("No terminal to prompt on: name a variable with --password-env."))
        first = getpass.getpass(_("Password: "))
        if first != getpass.getpass(_("Password (again): ")):
            raise CommandError(_("The two passwords differ."))
        return first

    def stdin_is_interactive(self) -> bool:
        return os.isatty(0)
