"""Stage probabilities learned from what happened, shrunk toward the configured ones.

For an open deal that has spent d days in its stage: among the closed deals of the same
pipeline that spent at least the same band of days (0+, 7+, 14+ or 30+) in that stage
(their recorded stage visits, `crm_deal_stage_visits`), n were closed and w of them won.
The learned probability is the mean of the Beta posterior whose prior is the stage's
configured probability p₀ worth PRIOR_WEIGHT deals: Beta(PRIOR_WEIGHT·p₀, PRIOR_WEIGHT·(1 - p₀))
updated with w wins in n, so (w + PRIOR_WEIGHT·p₀) / (n + PRIOR_WEIGHT). With few closed deals
it stays near p₀; with many, it follows the record (at n = PRIOR_WEIGHT, halfway).

The record (w and n per stage and band) is counted by a refit, nightly and on demand
(`finance.services.learned_probabilities_refit`), and stored (`finance.models.LearnedRecord`);
forecasts and the deal page read the stored record, so they cost one small query whatever the
history's size, and a forecast's probabilities do not move under it while it is made.
"""

import dataclasses
import datetime
from decimal import Decimal

import numpy as np
from django.db.models import Count, F, Q
from django.utils import timezone

from coop.money import round_half_even
from crm.models import Deal, DealStatus, Pipeline, PipelineStage, StageVisit
from finance.models import LearnedRecord

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
    fitted_at: datetime.datetime | None  # the refit that counted the record (None: never)
    prior_weight: int = PRIOR_WEIGHT


def band_start(days: int) -> int:
    """The lower bound of the band `days` falls in."""
    return max(bound for bound in DAY_BANDS if bound <= max(days, 0))


def shrunk_percent(wins: int, closed: int, configured: int) -> int:
    """The Beta posterior mean (see the module doc) in percent, rounded half-even."""
    posterior = (Decimal(wins) + Decimal(PRIOR_WEIGHT * configured) / 100) / (closed + PRIOR_WEIGHT)
    return round_half_even(posterior * 100)


def stage_band_records(
    pipeline_ids, closed_before: datetime.datetime | None = None
) -> dict[tuple, tuple[int, int]]:
    """(stage id, band) -> (wins, closed) of the closed deals of the pipelines (those closed
    before `closed_before` when given), from their stage visits: one aggregate query."""
    closed = Q(deal__status__in=[DealStatus.WON, DealStatus.LOST], left_at__isnull=False)
    if closed_before is not None:
        closed &= Q(deal__closed_at__lt=closed_before)
    won = Q(deal__status=DealStatus.WON)
    counts = {}
    for bound in DAY_BANDS:
        stayed = Q(left_at__gte=F("entered_at") + datetime.timedelta(days=bound))
        counts[f"closed_{bound}"] = Count("id", filter=closed & stayed)
        counts[f"wins_{bound}"] = Count("id", filter=closed & stayed & won)
    rows = (
        StageVisit.objects.filter(deal__pipeline_id__in=pipeline_ids)
        .values("stage_id")
        .annotate(**counts)
        .order_by()
    )
    return {
        (row["stage_id"], bound): (row[f"wins_{bound}"], row[f"closed_{bound}"])
        for row in rows
        for bound in DAY_BANDS
        if row[f"closed_{bound}"]
    }


def deal_explanation(deal: Deal, now: datetime.datetime | None = None) -> Explanation:
    """The learned probability of an open deal and the stored record behind it (one query)."""
    days = ((now or timezone.now()) - deal.stage_entered_at).days
    bound = band_start(days)
    record = (
        LearnedRecord.objects.filter(stage_id=deal.stage_id, band_days=bound)
        .values("wins", "closed", "fitted_at")
        .first()
    ) or {"wins": 0, "closed": 0, "fitted_at": None}
    configured = deal.stage.probability
    return Explanation(
        probability=shrunk_percent(record["wins"], record["closed"], configured),
        configured=configured,
        band_days=bound,
        wins=record["wins"],
        closed=record["closed"],
        fitted_at=record["fitted_at"],
    )


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Configured against learned probabilities on the deals closed from `cutoff` on,
    learned from those closed before it. Each held-out stage visit is one prediction, made
    when the deal entered the stage (band 0+), against whether the deal was won.

    The forecast's error on the same held-out deals: for each calendar month (UTC) from the
    cutoff, the forecast is the sum of value x probability of the deals that closed in it,
    each at the probability of the last stage it was in, and the truth is the value won in
    it; MAPE is the mean of |forecast - won| / won over the months with something won."""

    pipeline_name: str
    cutoff: datetime.date
    trained_on: int  # stage visits of deals closed before the cutoff
    held_out: int  # stage visits of deals closed from the cutoff on
    brier_configured: float | None
    brier_learned: float | None
    # Per tenth of the scale: its bounds in percent and, for each method, (predictions, their
    # mean, the observed win rate) - the reliability diagram as a table.
    reliability: list[dict]
    months: int = 0  # held-out months with revenue won
    mape_configured: float | None = None
    mape_learned: float | None = None


RELIABILITY_BINS = 10


def _reliability(predicted: np.ndarray, outcomes: np.ndarray) -> list[tuple[int, float, float]]:
    """Per tenth of the probability scale: predictions, their mean, the observed win rate."""
    bins = np.minimum((predicted * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    rows = []
    for index in range(RELIABILITY_BINS):
        members = bins == index
        count = int(members.sum())
        rows.append(
            (count, float(predicted[members].mean()), float(outcomes[members].mean()))
            if count
            else (0, None, None)
        )
    return rows


def _monthly_mape(
    months: np.ndarray, values: np.ndarray, outcomes: np.ndarray, *predictions: np.ndarray
) -> tuple[int, list[float | None]]:
    """(months with revenue won, MAPE of each prediction) of monthly value forecasts."""
    keys, index = np.unique(months, return_inverse=True)
    won = np.bincount(index, weights=values * outcomes, minlength=len(keys))
    counted = won > 0
    if not counted.any():
        return 0, [None for _ in predictions]
    errors = []
    for predicted in predictions:
        forecast = np.bincount(index, weights=values * predicted, minlength=len(keys))
        errors.append(float(np.mean(np.abs(forecast[counted] - won[counted]) / won[counted])))
    return int(counted.sum()), errors


def pipeline_calibration(pipeline: Pipeline, cutoff: datetime.date) -> Calibration:
    """Brier scores, reliability tables and monthly forecast MAPE of the configured and the
    learned probabilities of `pipeline`, held out from `cutoff` (two queries)."""
    visits = list(
        StageVisit.objects.filter(
            deal__pipeline=pipeline,
            deal__status__in=[DealStatus.WON, DealStatus.LOST],
            left_at__isnull=False,
        )
        .order_by("deal_id", "entered_at", "id")
        .values_list("stage_id", "deal__closed_at", "deal__status", "deal_id", "deal__value_cents")
    )
    configured = dict(pipeline.stages.values_list("pk", "probability"))
    begin = datetime.datetime.combine(cutoff, datetime.time.min, datetime.UTC)
    training = [(stage, status) for stage, closed, status, *_ in visits if closed < begin]
    held = [visit for visit in visits if visit[1] >= begin]
    record: dict = {}
    for stage, status in training:
        wins, closed = record.get(stage, (0, 0))
        record[stage] = (wins + (status == DealStatus.WON), closed + 1)
    if not held:
        return Calibration(pipeline.name, cutoff, len(training), 0, None, None, [])
    outcomes = np.array([status == DealStatus.WON for _, _, status, *_ in held], dtype=float)
    prior = np.array([configured.get(stage, 0) / 100 for stage, *_ in held], dtype=float)
    learned = np.array(
        [
            shrunk_percent(*record.get(stage, (0, 0)), configured.get(stage, 0))
            for stage, *_ in held
        ],
        dtype=float,
    )
    learned /= 100
    # Each deal's last visit (ordered by deal, then entry) carries its forecast.
    last = np.array(
        [
            index == len(held) - 1 or held[index + 1][3] != held[index][3]
            for index in range(len(held))
        ]
    )
    months = np.array([12 * closed.year + closed.month for _, closed, *_ in held])[last]
    values = np.array([value for *_, value in held], dtype=float)[last]
    months_counted, (mape_configured, mape_learned) = _monthly_mape(
        months, values, outcomes[last], prior[last], learned[last]
    )
    by_configured = _reliability(prior, outcomes)
    by_learned = _reliability(learned, outcomes)
    return Calibration(
        pipeline_name=pipeline.name,
        cutoff=cutoff,
        trained_on=len(training),
        held_out=len(held),
        brier_configured=float(np.mean((prior - outcomes) ** 2)),
        brier_learned=float(np.mean((learned - outcomes) ** 2)),
        reliability=[
            {
                "low": 100 * index // RELIABILITY_BINS,
                "high": 100 * (index + 1) // RELIABILITY_BINS,
                "configured": by_configured[index],
                "learned": by_learned[index],
            }
            for index in range(RELIABILITY_BINS)
        ],
        months=months_counted,
        mape_configured=mape_configured,
        mape_learned=mape_learned,
    )


@dataclasses.dataclass(frozen=True)
class ForecastProbabilities:
    """What a forecast of a team uses: the learned percent of each (stage id, band) of the
    pipelines whose managers chose learned probabilities (other stages keep their configured
    one), counted to the instant `as_of`, and each pipeline's source by name."""

    as_of: datetime.datetime
    learned: dict[tuple, int]
    sources: dict[str, str]

    def probability(self, stage_id, configured: int, entered_at: datetime.datetime) -> int:
        days = (self.as_of - entered_at).days
        return self.learned.get((stage_id, band_start(days)), configured)

    def as_json(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "pipelines": self.sources}


def forecast_probabilities(team_id, as_of: datetime.datetime) -> ForecastProbabilities:
    """The team's pipelines' probability sources and the learned table (at most three
    queries: pipelines, their stored records, the stages)."""
    pipelines = list(
        Pipeline.objects.filter(team_id=team_id)
        .order_by("name")
        .values_list("pk", "name", "probability_choice__use_learned")
    )
    chosen = [pk for pk, _, use_learned in pipelines if use_learned]
    sources = {name: "learned" if use else "configured" for _, name, use in pipelines}
    learned: dict[tuple, int] = {}
    if chosen:
        records = {
            (stage_id, band): (wins, closed)
            for stage_id, band, wins, closed in LearnedRecord.objects.filter(
                pipeline_id__in=chosen
            ).values_list("stage_id", "band_days", "wins", "closed")
        }
        for stage_id, configured in PipelineStage.objects.filter(
            pipeline_id__in=chosen, is_won=False, is_lost=False
        ).values_list("pk", "probability"):
            for bound in DAY_BANDS:
                wins, closed = records.get((stage_id, bound), (0, 0))
                learned[(stage_id, bound)] = shrunk_percent(wins, closed, configured)
    return ForecastProbabilities(as_of=as_of, learned=learned, sources=sources)
