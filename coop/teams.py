"""Team selectors: who may see whom. Every module asks these instead of reading memberships.

Rules (one place, used by every view, partial and export):
- staff see everyone;
- a manager sees the members of the teams they manage, and themselves;
- anyone else sees only themselves (their teams' shared *records* come from `team_ids_for`).
"""

from uuid import UUID

from django.db.models import Q, QuerySet

from coop.models import Membership, Role, User


def team_ids_for(user: User) -> list[UUID]:
    """Ids of every team the user belongs to, whatever the role."""
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def managed_team_ids(user: User) -> list[UUID]:
    """Ids of the teams in which the user holds the manager role."""
    return list(
        Membership.objects.filter(user=user, role=Role.MANAGER).values_list("team_id", flat=True)
    )


def visible_users(user: User) -> QuerySet[User]:
    """Active users whose personal views (calendar, pipeline) this user may open."""
    active = User.objects.filter(is_active=True)
    if user.is_staff:
        return active
    managed = Membership.objects.filter(user=user, role=Role.MANAGER).values("team_id")
    return active.filter(Q(pk=user.pk) | Q(memberships__team_id__in=managed)).distinct()
