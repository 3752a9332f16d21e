"""Stage probabilities learned from what happened, shrunk toward the configured ones.

For an open deal that has spent d days in its stage: among the closed deals of the same
pipeline that spent at least the same band of days (0+, 7+, 14+ or 30+) in that stage
(their recorded stage visits, `crm_deal_stage_visits`), n were closed and w of them won.
The learned probability is the mean of the Beta posterior whose prior is the stage's
configured probability p₀ worth PRIOR_WEIGHT deals: Beta(PRIOR_WEIGHT·p₀, PRIOR_WEIGHT·(1 - p₀))
updated with w wins in n, so (w + PRIOR_WEIGHT·p₀) / (n + PRIOR_WEIGHT). With few closed deals
it stays near p₀; with many, it follows the record (at n = PRIOR_WEIGHT, halfway).
"""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import Count, F, Q
from django.utils import timezone

from coop.money import round_half_even
from crm.models import Deal, DealStatus, StageVisit

# The prior's weight, in deals: the configured probability counts as this many past deals.
PRIOR_WEIGHT = 20
# Lower bounds, in days, of the time-in-stage bands.
DAY_BANDS = (0, 7, 14, 30)


@dataclasses.dataclass(frozen=True)
class Explanation:
    probability: int  # percent, rounded half-even
    configured: int  # the stage's configured percent
    band_days: int  # the band's lower bound: deals in the stage for band_days+ days
    wins: int
    closed: int
    prior_weight: int = PRIOR_WEIGHT


def band_start(days: int) -> int:
    """The lower bound of the band `days` falls in."""
    return max(bound for bound in DAY_BANDS if bound <= max(days, 0))


def shrunk_percent(wins: int, closed: int, configured: int) -> int:
    """The Beta posterior mean (see the module doc) in percent, rounded half-even."""
    posterior = (Decimal(wins) + Decimal(PRIOR_WEIGHT * configured) / 100) / (closed + PRIOR_WEIGHT)
    return round_half_even(posterior * 100)


def deal_explanation(deal: Deal, now: datetime.datetime | None = None) -> Explanation:
    """The learned probability of an open deal and the record behind it (one query)."""
    days = ((now or timezone.now()) - deal.stage_entered_at).days
    bound = band_start(days)
    record = StageVisit.objects.filter(
        deal__pipeline_id=deal.pipeline_id,
        deal__status__in=[DealStatus.WON, DealStatus.LOST],
        stage_id=deal.stage_id,
        left_at__gte=F("entered_at") + datetime.timedelta(days=bound),
    ).aggregate(closed=Count("id"), wins=Count("id", filter=Q(deal__status=DealStatus.WON)))
    configured = deal.stage.probability
    return Explanation(
        probability=shrunk_percent(record["wins"], record["closed"], configured),
        configured=configured,
        band_days=bound,
        wins=record["wins"],
        closed=record["closed"],
    )
