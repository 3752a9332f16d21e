"""Who may forecast what: the scopes (a whole team, or one member's deals) a user may
forecast, the teams in which they see every forecast or enter revenue, the forecasts they may
see, and the deals of a scope.

Every function reads in a fixed number of queries, whatever the number of teams or deals.
"""

import dataclasses

from django.db.models import Q, QuerySet

from coop.models import Membership, Role, Team, User
from crm.models import Deal
from finance.models import RevenueForecast


@dataclasses.dataclass(frozen=True)
class Scope:
    team: Team
    user: User | None

    @property
    def key(self) -> str:
        return f"{self.team.pk}:{self.user.pk if self.user else 'team'}"

    @property
    def label(self) -> str:
        if self.user is None:
            return f"{self.team} — whole team"
        return f"{self.team} — {self.user}"


def full_access_team_ids(user: User) -> set:
    """Teams in which the user sees every forecast: finance staff and managers."""
    return set(
        Membership.objects.filter(user=user, role__in=[Role.MANAGER, Role.FINANCE]).values_list(
            "team_id", flat=True
        )
    )


def finance_team_ids(user: User) -> set:
    """Teams for which the user may enter revenue by hand: finance staff (staff: all)."""
    if user.is_staff:
        return set(Team.objects.values_list("pk", flat=True))
    return set(
        Membership.objects.filter(user=user, role=Role.FINANCE).values_list("team_id", flat=True)
    )


def forecast_scopes(user: User) -> list[Scope]:
    """What the user may forecast: a whole team and each of its members where they are finance
    staff or a manager (staff: every team); elsewhere only their own deals."""
    memberships = Membership.objects.select_related("team", "user").order_by(
        "team__name", "user__username"
    )
    if user.is_staff:
        full = set(Team.objects.values_list("pk", flat=True))
    else:
        full = full_access_team_ids(user)
    own = {m.team_id: m.team for m in memberships.filter(user=user)}
    rows = memberships.filter(Q(team_id__in=full) | Q(user=user))
    scopes, teams_done = [], set()
    for membership in rows:
        team = membership.team
        if team.pk in full and team.pk not in teams_done:
            scopes.append(Scope(team, None))
            teams_done.add(team.pk)
        if team.pk in full or (membership.user_id == user.pk and team.pk in own):
            scopes.append(Scope(team, membership.user))
    return scopes


def scope_allowed(user: User, team: Team, scope_user: User | None) -> bool:
    """May `user` forecast the team (scope_user None) or one member's deals?"""
    if (
        scope_user is not None
        and not Membership.objects.filter(user=scope_user, team=team).exists()
    ):
        return False
    if user.is_staff or team.pk in full_access_team_ids(user):
        return True
    return scope_user is not None and scope_user.pk == user.pk


def forecasts_visible_to(user: User) -> QuerySet[RevenueForecast]:
    """The forecasts the user may see, with their team, scope user and author joined."""
    return RevenueForecast.objects.visible_to(user).select_related("team", "scope_user", "user")


def scope_deals(team: Team, scope_user: User | None) -> QuerySet[Deal]:
    """The deals of the team's pipelines, only those `scope_user` owns when given."""
    deals = Deal.objects.filter(pipeline__team=team)
    return deals.filter(owner=scope_user) if scope_user is not None else deals
