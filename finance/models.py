"""Finance records: exchange rates, revenue forecasts (the plan's `revenue_forecasts` and
`forecast_deals`) with their per-period buckets, the finance module's imported copy of each
forecast, actual revenue entries and revenue targets.

Money is integer minor units plus an ISO 4217 code; rates are Decimals. Foreign keys into
`revenue_forecasts` and from `forecast_deals` act in the database (`DB_CASCADE`), as the
plan's SQL asks, so deleting a deal or a forecast removes its forecast rows there.
"""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from coop.models import Team, User
from coop.money import CURRENCY_CHOICES
from coop.visibility import TeamFiguresQuerySet
from crm.models import Deal, Pipeline
from finance.periods import PeriodType, period_start

# A won deal's place in the category columns, whatever its category was while open.
CLOSED_CATEGORY = "closed"


class ExchangeRate(models.Model):
    """On `date`, one unit of `base` is worth `rate` units of `quote`.

    The rate in effect on a day is the latest one dated on or before it (rates are not
    published on weekends and holidays); `finance.rates` applies that rule.
    """

    id = models.BigAutoField(primary_key=True)
    date = models.DateField()
    base = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    quote = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    rate = models.DecimalField(max_digits=20, decimal_places=10)

    class Meta:
        db_table = "finance_exchange_rates"
        ordering = ["-date", "base", "quote"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "base", "quote"], name="finance_rate_date_pair_uniq"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="finance_rate_positive_check"),
            models.CheckConstraint(
                condition=~Q(base=models.F("quote")), name="finance_rate_distinct_pair_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: 1 {self.base} = {self.rate} {self.quote}"


class ForecastQuerySet(TeamFiguresQuerySet):
    """Staff everything; finance staff and managers every forecast of their teams; anyone
    else (reps) only the forecasts of their own deals."""

    own_field = "scope_user"


class RevenueForecast(models.Model):
    """A snapshot forecast of a team's (or one rep's) revenue over a date range.

    `total_expected_cents` = realized + the sum of the open deals' expected values (the stored
    `forecast_deals` rows); `confidence_interval` holds the method, its parameters and the
    P10/P50/P90/95 % interval of the total and of each period. A scenario (what-if) is a
    forecast with a `baseline` and the `scenario` parameters that produced it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255)
    # Who generated it (NULL when the cron command did). Team forecasts outlive their author.
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="forecasts"
    )
    # DO_NOTHING: the database refuses to delete a team that has forecasts.
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, related_name="forecasts")
    # Set for a forecast of one rep's deals; NULL for the whole team's.
    scope_user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DB_CASCADE,
        related_name="scoped_forecasts",
    )
    forecast_date = models.DateField()
    period_type = models.CharField(max_length=20, choices=PeriodType.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    time_zone = models.CharField(max_length=64, default="UTC")
    total_expected_cents = models.BigIntegerField()
    realized_cents = models.BigIntegerField(default=0)
    confidence_interval = models.JSONField()
    baseline = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DB_CASCADE,
        related_name="scenarios",
    )
    scenario = models.JSONField(null=True, blank=True)
    # Which stage probabilities the forecast used, per pipeline of the team with open deals
    # ({"as_of": instant days in stage were counted to, "pipelines": {name: "learned" or
    # "configured"}}); empty for forecasts made before the choice existed.
    probability_sources = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        db_table = "revenue_forecasts"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="revenue_forecast_team_idx"),
            models.Index(fields=["scope_user", "-created_at"], name="revenue_forecast_scope_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_type__in=PeriodType.values),
                name="revenue_forecasts_period_type_check",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="revenue_forecasts_range_check",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_scenario(self) -> bool:
        return self.baseline_id is not None

    @property
    def open_expected_cents(self) -> int:
        return self.total_expected_cents - self.realized_cents


class ForecastBucket(models.Model):
    """One period of a forecast: expected revenue and its interval (also in the JSON)."""

    id = models.BigAutoField(primary_key=True)
    forecast = models.ForeignKey(
        RevenueForecast, on_delete=models.DB_CASCADE, related_name="buckets"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    expected_cents = models.BigIntegerField()
    realized_cents = models.BigIntegerField()
    deal_count = models.PositiveIntegerField()
    p10_cents = models.BigIntegerField()
    p50_cents = models.BigIntegerField()
    p90_cents = models.BigIntegerField()
    low95_cents = models.BigIntegerField()
    high95_cents = models.BigIntegerField()

    class Meta:
        db_table = "finance_forecast_buckets"
        ordering = ["forecast", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["forecast", "period_start"], name="finance_bucket_period_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.forecast} {self.period_start}"


class ForecastDeal(models.Model):
    """A deal as counted in a forecast (the plan's `forecast_deals`).

    `value_cents` is the deal's value in the report currency (converted at `rate`), and
    `expected_value_cents` = value x probability / 100, rounded half-even. A won deal counts
    as realized with probability 100. Stage id and name are a snapshot, not a foreign key.
    """

    pk = models.CompositePrimaryKey("forecast_id", "deal_id")
    forecast = models.ForeignKey(RevenueForecast, on_delete=models.DB_CASCADE, related_name="deals")
    deal = models.ForeignKey(Deal, on_delete=models.DB_CASCADE, related_name="forecast_rows")
    expected_value_cents = models.BigIntegerField()
    probability = models.SmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    realized = models.BooleanField(default=False)
    on_date = models.DateField(
        help_text=gettext_lazy("Expected close date, or the day a won deal closed.")
    )
    period_start = models.DateField()
    deal_value_cents = models.BigIntegerField()
    deal_currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10)
    value_cents = models.BigIntegerField()
    stage_id = models.UUIDField(null=True)
    stage_name = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    # The deal's forecast category when the forecast was made; "closed" for a won deal.
    forecast_category = models.CharField(max_length=20, default=CLOSED_CATEGORY)

    class Meta:
        db_table = "forecast_deals"
        ordering = ["period_start", "on_date", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="forecast_deals_probability_check",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.probability} %)"


class ImportedForecast(models.Model):
    """The finance module's own copy of a forecast, taken when it was generated: the figures
    finance plans with and later measures against actual revenue (forecast accuracy)."""

    id = models.BigAutoField(primary_key=True)
    forecast = models.OneToOneField(
        RevenueForecast, on_delete=models.DB_CASCADE, related_name="imported"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, related_name="+")
    scope_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="+"
    )
    period_type = models.CharField(max_length=20, choices=PeriodType.choices)
    currency = models.CharField(max_length=3)
    start_date = models.DateField()
    end_date = models.DateField()
    total_expected_cents = models.BigIntegerField()
    # [{"start": "2026-01-01", "end": "2026-01-31", "expected_cents": 123}, ...]
    periods = models.JSONField()

    class Meta:
        db_table = "finance_imported_forecasts"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"Import of {self.forecast_id}"


class RevenueSource(models.TextChoices):
    DEAL = "deal", gettext_lazy("Won deal")
    MANUAL = "manual", gettext_lazy("Entered by finance")


class RevenueEntryQuerySet(TeamFiguresQuerySet):
    """Staff all; finance staff and managers their teams' entries; reps their own deals'."""

    own_field = "owner"
    own_within_member_teams = False


class RevenueEntry(models.Model):
    """Actual revenue: booked when a deal is won, or entered by finance staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, related_name="revenue_entries")
    booked_on = models.DateField()
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    source = models.CharField(max_length=10, choices=RevenueSource.choices)
    deal = models.OneToOneField(
        Deal,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="revenue_entry",
    )
    # The rep the revenue is credited to (the deal's owner), if any.
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="revenue_entries",
    )
    description = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RevenueEntryQuerySet.as_manager()

    class Meta:
        db_table = "finance_revenue_entries"
        ordering = ["-booked_on", "-created_at"]
        verbose_name_plural = gettext_lazy("revenue entries")
        indexes = [models.Index(fields=["team", "booked_on"], name="finance_revenue_team_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="finance_revenue_amount_check"
            ),
            models.CheckConstraint(
                condition=Q(source__in=RevenueSource.values), name="finance_revenue_source_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.description}"


class RevenueTargetQuerySet(TeamFiguresQuerySet):
    """Staff all; managers and finance staff their teams' targets, a person their own."""

    own_field = "user"


class RevenueTarget(models.Model):
    """A revenue target (quota) for one period (the period starting on `period_start`): the
    team's when `user` is empty, else one member's. Set by the team's managers."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="revenue_targets")
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="revenue_targets",
        help_text=gettext_lazy("Empty: the whole team's target."),
    )
    period_type = models.CharField(max_length=20, choices=PeriodType.choices)
    period_start = models.DateField()
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)

    objects = RevenueTargetQuerySet.as_manager()

    class Meta:
        db_table = "finance_revenue_targets"
        ordering = ["team", "period_type", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "period_type", "period_start"],
                condition=Q(user__isnull=True),
                name="finance_target_period_uniq",
            ),
            models.UniqueConstraint(
                fields=["team", "user", "period_type", "period_start"],
                condition=Q(user__isnull=False),
                name="finance_target_person_period_uniq",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="finance_target_amount_check"
            ),
            models.CheckConstraint(
                condition=Q(period_type__in=PeriodType.values),
                name="finance_target_period_type_check",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(whose)s %(period_type)s from %(start)s") % {
            "whose": self.user or self.team,
            "period_type": self.get_period_type_display(),
            "start": self.period_start,
        }

    def clean(self) -> None:
        if self.period_type in PeriodType.values and self.period_start:
            expected = period_start(self.period_start, self.period_type)
            if expected != self.period_start:
                raise ValidationError(
                    {
                        "period_start": gettext(
                            "A %(period_type)s starts on %(expected)s, not %(given)s."
                        )
                        % {
                            "period_type": str(self.get_period_type_display()).lower(),
                            "expected": expected.isoformat(),
                            "given": self.period_start.isoformat(),
                        }
                    }
                )


class SubmissionLevel(models.TextChoices):
    REP = "rep", gettext_lazy("Rep's own number")
    TEAM = "team", gettext_lazy("Team roll-up")


class ForecastSubmissionQuerySet(TeamFiguresQuerySet):
    """Staff all; managers and finance staff their teams' submissions; a rep their own."""

    own_field = "submitted_by"


class ForecastSubmission(models.Model):
    """A person's forecast call for one period, kept forever: each new call is a new row, so
    the history shows every number submitted and when. A rep submits their own number
    (`level` rep); a manager submits the team's (`level` team), adjusted from the reps'
    numbers with a comment. `commit_cents` is the commit the form offered as the default."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="forecast_submissions")
    submitted_by = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="forecast_submissions"
    )
    level = models.CharField(max_length=10, choices=SubmissionLevel.choices)
    period_type = models.CharField(max_length=20, choices=PeriodType.choices)
    period_start = models.DateField()
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    commit_cents = models.BigIntegerField(null=True, blank=True)
    comment = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = ForecastSubmissionQuerySet.as_manager()

    class Meta:
        db_table = "finance_forecast_submissions"
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(
                fields=["team", "period_type", "period_start", "level"],
                name="finance_submission_period_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="finance_submission_amount_check"
            ),
            models.CheckConstraint(
                condition=Q(level__in=SubmissionLevel.values),
                name="finance_submission_level_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submitted_by} {self.period_type} {self.period_start}"


class ProbabilityChoice(models.Model):
    """A manager's choice of the probabilities a pipeline's forecasts use: the stages'
    configured ones (no row, or `use_learned` False) or the learned ones (`finance.learned`)."""

    pipeline = models.OneToOneField(
        Pipeline, on_delete=models.CASCADE, primary_key=True, related_name="probability_choice"
    )
    use_learned = models.BooleanField(default=False)
    chosen_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "finance_probability_choices"

    def __str__(self) -> str:
        return f"{self.pipeline}: {'learned' if self.use_learned else 'configured'}"


class LearnedRecord(models.Model):
    """The record behind a learned probability, as of the last refit
    (`finance.services.learned_probabilities_refit`, nightly and on demand): of the closed deals
    of the pipeline that spent at least `band_days` days in stage `stage_id`, `closed` closed
    and `wins` were won. `finance.learned` shrinks it toward the stage's configured probability
    when it is read, so a changed configured probability counts at once."""

    id = models.BigAutoField(primary_key=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="learned_records")
    # A snapshot of the stage visits' stage id (`crm_deal_stage_visits.stage_id`).
    stage_id = models.UUIDField()
    band_days = models.PositiveSmallIntegerField()
    wins = models.PositiveIntegerField()
    closed = models.PositiveIntegerField()
    fitted_at = models.DateTimeField()

    class Meta:
        db_table = "finance_learned_records"
        constraints = [
            models.UniqueConstraint(
                fields=["stage_id", "band_days"], name="finance_learned_record_unique"
            ),
            models.CheckConstraint(
                condition=Q(wins__lte=models.F("closed")), name="finance_learned_wins_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage_id} {self.band_days}+ days: {self.wins} of {self.closed}"
