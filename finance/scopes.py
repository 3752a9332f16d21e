"""Who may forecast what: the scopes (a whole team, or one member's deals) a user may
forecast, the teams in which they see every forecast or enter revenue, the forecasts they may
see, and the deals of a scope.

Every function reads in a fixed number of queries, whatever the number of teams or deals.
"""

import dataclasses

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from coop.models import Membership, Role, Team, User
from coop.visibility import (
    is_member,
    sees_every_team,
    sees_team_figures,
    team_figures_team_ids,
    team_ids_with_roles,
)
from crm.models import Deal
from finance.models import RevenueEntry, RevenueForecast


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
            return gettext("%(team)s — whole team") % {"team": self.team}
        return f"{self.team} — {self.user}"


def full_access_team_ids(user: User) -> set:
    """Teams in which the user sees every forecast (`coop.visibility`; staff: every team)."""
    if sees_every_team(user):
        return set(Team.objects.values_list("pk", flat=True))
    return {row["team_id"] for row in team_figures_team_ids(user)}


def finance_team_ids(user: User) -> set:
    """Teams for which the user may enter revenue by hand: finance staff (staff: all)."""
    if sees_every_team(user):
        return set(Team.objects.values_list("pk", flat=True))
    return {row["team_id"] for row in team_ids_with_roles(user, [Role.FINANCE])}


def forecast_scopes(user: User) -> list[Scope]:
    """What the user may forecast: a whole team and each of its members where they are finance
    staff or a manager (staff: every team); elsewhere only their own deals."""
    memberships = Membership.objects.select_related("team", "user").order_by(
        "team__name", "user__username"
    )
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
    if scope_user is not None and not is_member(scope_user, team.pk):
        return False
    if sees_team_figures(user, team.pk):
        return True
    return scope_user is not None and scope_user.pk == user.pk


def forecasts_visible_to(user: User) -> QuerySet[RevenueForecast]:
    """The forecasts the user may see, with their team, scope user and author joined."""
    return RevenueForecast.objects.visible_to(user).select_related("team", "scope_user", "user")


def scope_deals(team: Team, scope_user: User | None) -> QuerySet[Deal]:
    """The deals of the team's pipelines, only those `scope_user` owns when given."""
    deals = Deal.objects.filter(pipeline__team=team)
    return deals.filter(owner=scope_user) if scope_user is not None else deals


def revenue_of_deals(*, deal_ids: list) -> list[dict]:
    """The revenue booked for these deals, as JSON-ready values (a person's data on request,
    GDPR Art. 15)."""
    return [
        {
            "deal_id": str(entry.deal_id),
            "booked_on": entry.booked_on.isoformat(),
            "amount_cents": entry.amount_cents,
            "currency": entry.currency,
            "description": entry.description,
        }
        for entry in RevenueEntry.objects.filter(deal_id__in=deal_ids).order_by("booked_on")
    ]
