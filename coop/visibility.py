"""Who sees what: the one place that knows the team rule. Every queryset, form, service,
selector and admin of every module asks these functions instead of reading memberships.

The rule:
- an inactive or anonymous user sees nothing;
- staff see every team's records and everyone;
- a team's *records* (contacts, organizations, pipelines, deals, interactions, meetings
  about them) are seen by the team's members, whatever their role;
- a *person's own views* (calendar, pipeline, forecast of their deals) are seen by the person
  and by the managers of a team the person belongs to;
- team-wide figures (forecasts, revenue) are seen by the team's managers and finance staff;
  a rep sees those of their own deals only (`team_ids_with_roles`).
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import models
from django.db.models import Q, QuerySet

from coop.models import Membership, Role, Team, User


def sees_nothing(user: User) -> bool:
    return not getattr(user, "is_authenticated", False) or not user.is_active


def sees_every_team(user: User) -> bool:
    """Active staff see every team's records."""
    return not sees_nothing(user) and user.is_staff


def member_team_ids(user: User) -> QuerySet:
    """Subquery of the ids of the teams the user belongs to (any role)."""
    return Membership.objects.filter(user=user).values("team_id")


def team_ids_with_roles(user: User, roles: Iterable[str]) -> QuerySet:
    """Subquery of the ids of the teams in which the user holds one of `roles`."""
    return Membership.objects.filter(user=user, role__in=list(roles)).values("team_id")


# Who sees a team's team-wide figures (every forecast of the team, all its revenue).
TEAM_FIGURES_ROLES = (Role.MANAGER, Role.FINANCE)


def team_figures_team_ids(user: User) -> QuerySet:
    """Subquery of the ids of the teams whose team-wide figures the user sees (not staff:
    use `sees_team_figures` or check `sees_every_team` first)."""
    return team_ids_with_roles(user, TEAM_FIGURES_ROLES)


def sees_team_figures(user: User, team_id: UUID) -> bool:
    """Whether the user sees the team-wide figures of team `team_id` (staff: every team)."""
    if sees_nothing(user):
        return False
    return user.is_staff or team_figures_team_ids(user).filter(team_id=team_id).exists()


def manager_team_ids(user: User) -> QuerySet | list:
    """The ids of the teams the user manages (active staff: every team)."""
    if sees_nothing(user):
        return []
    if user.is_staff:
        return Team.objects.values("pk")
    return team_ids_with_roles(user, [Role.MANAGER])


def manages_team(user: User, team_id: UUID) -> bool:
    """Whether the user is a manager of team `team_id` (active staff: of every team): who
    changes its deals' forecast categories, imports into it and handles its contacts'
    personal data requests."""
    if sees_nothing(user):
        return False
    return (
        user.is_staff or team_ids_with_roles(user, [Role.MANAGER]).filter(team_id=team_id).exists()
    )


class TeamFiguresQuerySet(models.QuerySet):
    """A queryset of team-wide figures (forecasts, revenue, targets, submissions): the user
    sees every row of the teams whose figures they see (`team_figures_team_ids`) and the rows
    that are their own (`own_field`), the latter only in a team they belong to when
    `own_within_member_teams`; staff see everything."""

    own_field = "owner"
    own_within_member_teams = True

    def visible_to(self, user: User) -> "TeamFiguresQuerySet":
        if sees_nothing(user):
            return self.none()
        if sees_every_team(user):
            return self.all()
        own = Q(**{self.own_field: user})
        if self.own_within_member_teams:
            own &= Q(team_id__in=member_team_ids(user))
        return self.filter(Q(team_id__in=team_figures_team_ids(user)) | own)


def visible_team_q(user: User, team_field: str = "team_id") -> Q:
    """The condition "the record's team (`team_field`) is one whose records the user sees".
    Always a real condition (never an empty `Q`), so it can be OR-ed with others."""
    if sees_nothing(user):
        return Q(pk__in=[])
    if user.is_staff:
        return ~Q(pk__in=[])
    return Q(**{f"{team_field}__in": member_team_ids(user)})


def teams_visible_to(user: User) -> QuerySet[Team]:
    """Teams whose records the user sees (and may add records to)."""
    return Team.objects.filter(visible_team_q(user, "pk"))


def teams_managed_by(user: User) -> QuerySet[Team]:
    """Teams whose data the user may load in bulk (imports): the teams they manage; staff
    every team."""
    if sees_nothing(user):
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(pk__in=team_ids_with_roles(user, [Role.MANAGER]))


def manages_team_expression(user: User, team_field: str = "team_id"):
    """`manages_team` as an expression on a team-owned queryset (`team_field` names the
    record's team), for a page that says it without another query."""
    if sees_nothing(user):
        return models.Value(False)
    if user.is_staff:
        return models.Value(True)
    return models.Exists(
        Membership.objects.filter(user=user, role=Role.MANAGER, team_id=models.OuterRef(team_field))
    )


def can_see_team(user: User, team_id: UUID | None) -> bool:
    """Whether the user sees the records of team `team_id`."""
    if team_id is None or sees_nothing(user):
        return False
    return user.is_staff or Membership.objects.filter(user=user, team_id=team_id).exists()


def is_member(user: User, team_id: UUID) -> bool:
    """Whether the user belongs to the team (staff included only if they are members)."""
    return Membership.objects.filter(user=user, team_id=team_id).exists()


class TeamScopedQuerySet(models.QuerySet):
    """A queryset of team records; `team_field` names the path to the record's team id."""

    team_field = "team_id"

    def visible_to(self, user: User) -> "TeamScopedQuerySet":
        """The records of the teams whose records the user sees."""
        return self.filter(visible_team_q(user, self.team_field))


def visible_users(user: User) -> QuerySet[User]:
    """Active users whose personal views (calendar, pipeline) this user may open: themselves
    and the members of the teams they manage (staff: everyone)."""
    active = User.objects.filter(is_active=True)
    if sees_nothing(user):
        return active.none()
    if user.is_staff:
        return active
    managed = team_ids_with_roles(user, [Role.MANAGER])
    return active.filter(Q(pk=user.pk) | Q(memberships__team_id__in=managed)).distinct()
