"""Write services of the core: team membership and a person's own settings. Each is atomic and
validates before writing."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from coop.languages import Language
from coop.models import ColorScheme, Membership, Role, Team, User
from coop.validators import require_single_line


@transaction.atomic
def member_add(
    *,
    username: str,
    team_name: str,
    role: str,
    password: str,
    email: str = "",
    display_name: str = "",
    validate_password_strength: bool = True,
) -> Membership:
    """Create a user and their membership of a team (created when missing), or nothing.

    Raises `ValidationError` with a message naming the problem (unknown role, existing user,
    bad email, weak password) before anything is written.
    """
    username = username.strip()
    team_name = team_name.strip()
    if not username:
        raise ValidationError(_("The username must not be empty."))
    if not team_name:
        raise ValidationError(_("The team name must not be empty."))
    require_single_line(username=username, team_name=team_name, display_name=display_name)
    if role not in Role.values:
        raise ValidationError(
            _("Unknown role %(role)s: choose one of %(roles)s."),
            params={"role": role, "roles": ", ".join(Role.values)},
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("A user named %(username)s already exists."), params={"username": username}
        )
    if email:
        validate_email(email)
    user = User(username=username, email=email, display_name=display_name)
    user.full_clean(exclude=["password"])
    if validate_password_strength:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    team, _created = Team.objects.get_or_create(name=team_name)
    return Membership.objects.create(user=user, team=team, role=role)


@transaction.atomic(durable=True)
def personal_settings_update(
    *, user: User, display_name: str, time_zone: str, language: str, color_scheme: str
) -> User:
    """Save a person's own settings (display name, time zone, language, colour scheme), or
    nothing: `ValidationError` naming the bad value (unknown time zone, language or scheme,
    a line break in the name) before anything is written. Not audited: the audit log records
    what is done to data and to other people, and no action of its list fits this."""
    display_name = display_name.strip()
    require_single_line(display_name=display_name)
    if language not in ("", *Language.values):
        raise ValidationError(
            _("Unknown language %(value)s."), params={"value": language}, code="invalid_choice"
        )
    if color_scheme not in ColorScheme.values:
        raise ValidationError(
            _("Unknown colour scheme %(value)s."),
            params={"value": color_scheme},
            code="invalid_choice",
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    user.display_name = display_name
    user.time_zone = time_zone.strip()
    user.language = language
    user.color_scheme = color_scheme
    user.full_clean(exclude=["password"], validate_unique=False)
    user.save(update_fields=["display_name", "time_zone", "language", "color_scheme"])
    return user
