"""Write services of the core: team membership. Each is atomic and validates before writing."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from coop.models import Membership, Role, Team, User
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
        raise ValidationError("The username must not be empty.")
    if not team_name:
        raise ValidationError("The team name must not be empty.")
    require_single_line(username=username, team_name=team_name, display_name=display_name)
    if role not in Role.values:
        raise ValidationError(
            "Unknown role %(role)s: choose one of %(roles)s.",
            params={"role": role, "roles": ", ".join(Role.values)},
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            "A user named %(username)s already exists.", params={"username": username}
        )
    if email:
        validate_email(email)
    user = User(username=username, email=email, display_name=display_name)
    user.full_clean(exclude=["password"])
    if validate_password_strength:
        validate_password(password, user)
    user.set_password(password)
    user.save()
    team, _ = Team.objects.get_or_create(name=team_name)
    return Membership.objects.create(user=user, team=team, role=role)
