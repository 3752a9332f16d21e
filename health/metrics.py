"""Daily sales figures per person, computed from CRM activity in a constant number of queries.

Definitions (also in the README). "Day" is a date in the person's own time zone; the trailing
window of a day D is the 28 days D-27 .. D.

- **interaction count**: the CRM interactions the person authored whose time falls on D.
- **deal velocity**: the deals the person owns that were closed (won or lost) in the trailing
  window, per week: closed deals / 4. A rate of closures, not a money figure.
- **conversion rate**: of those deals closed in the trailing window, the share closed as
  won: won / (won + lost), from 0.0 to 1.0; 0.0 when none closed (the plan's column is NOT
  NULL; `deals_closed` tells "none" from "all lost" on the pages).

These are read-only reads of CRM records; no CRM row is written here.
"""

import bisect
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.db import connection
from django.db.models import Count, DateField, F, Func
from django.db.models.functions import Cast

from crm.models import Deal, DealStatus, Interaction

WINDOW_DAYS = 28
WEEKS_IN_WINDOW = WINDOW_DAYS / 7


@dataclass(frozen=True)
class DayFigures:
    interaction_count: int
    deals_won: int
    deals_closed: int

    @property
    def deal_velocity(self) -> float:
        return self.deals_closed / WEEKS_IN_WINDOW

    @property
    def conversion_rate(self) -> float:
        return self.deals_won / self.deals_closed if self.deals_closed else 0.0


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """A UTC range that holds every local moment of the days start..end in any time zone."""
    low = datetime.combine(start - timedelta(days=1), time.min, tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=2), time.min, tzinfo=UTC)
    return low, high


class ActivityIndex:
    """Everyone's CRM activity over a date range, loaded in two queries, looked up by day."""

    def __init__(self, zones: dict[UUID, str], start: date, end: date) -> None:
        self.zones = {user_id: zoneinfo.ZoneInfo(name) for user_id, name in zones.items()}
        low, high = utc_bounds(start - timedelta(days=WINDOW_DAYS), end)
        self.interactions: dict[UUID, Counter] = defaultdict(Counter)
        interactions = Interaction.objects.filter(
            author_id__in=list(self.zones), timestamp__gte=low, timestamp__lt=high
        )
        if connection.vendor == "postgresql":
            # Counted by the author's local day in SQL: a few hundred rows come back, not
            # one per interaction (160,000 for a team of ten over 90 days at scale).
            local_day = Cast(
                Func(F("author__time_zone"), F("timestamp"), function="timezone"),
                DateField(),
            )
            for author_id, day, count in (
                interactions.values_list("author_id", local_day)
                .annotate(count=Count("*"))
                .order_by()
            ):
                self.interactions[author_id][day] = count
        else:
            for author_id, moment in interactions.values_list("author_id", "timestamp"):
                self.interactions[author_id][self._local(author_id, moment)] += 1
        closes: dict[UUID, list[tuple[date, bool]]] = defaultdict(list)
        for owner_id, status, moment in Deal.objects.filter(
            owner_id__in=list(self.zones),
            status__in=[DealStatus.WON, DealStatus.LOST],
            closed_at__gte=low,
            closed_at__lt=high,
        ).values_list("owner_id", "status", "closed_at"):
            closes[owner_id].append((self._local(owner_id, moment), status == DealStatus.WON))
        self.close_days = {user_id: sorted(rows) for user_id, rows in closes.items()}

    def _local(self, user_id: UUID, moment: datetime) -> date:
        return moment.astimezone(self.zones[user_id]).date()

    def interactions_on(self, user_id: UUID, day: date) -> int:
        return self.interactions[user_id][day]

    def closes_between(self, user_id: UUID, first: date, last: date) -> list[bool]:
        """Won (True) / lost (False) of the user's deals closed on local days first..last."""
        rows = self.close_days.get(user_id, [])
        low = bisect.bisect_left(rows, (first, False))
        high = bisect.bisect_right(rows, (last, True))
        return [won for _day, won in rows[low:high]]

    def figures(self, user_id: UUID, day: date) -> DayFigures:
        closes = self.closes_between(user_id, day - timedelta(days=WINDOW_DAYS - 1), day)
        return DayFigures(
            interaction_count=self.interactions_on(user_id, day),
            deals_won=sum(closes),
            deals_closed=len(closes),
        )
