"""Health records: daily wellness check-ins and the `sales_health_metrics` table of the plan.

Check-ins are special-category data: only their owner reads them in the app; in the admin
only staff who hold the explicit `health.read_checkins` permission. A `sales_health_metrics`
row exists only for a person who allows "team insights" (see `health.services`). The team
wellness insights show only `PublishedWeek` rows: figures of whole teams and weeks, each of at
least `MIN_CONTRIBUTORS` people (see `health.services.insights_publish`).
"""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy

from coop.models import Team, User

# k of the team insights: the fewest people whose data one published figure may come from.
# Changing it needs a migration: the database checks it on `PublishedWeek`.
MIN_CONTRIBUTORS = 5


class CheckIn(models.Model):
    """How a person felt on one day (their local date). One per person and day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (user, date) constraint serves lookups by user.
    user = models.ForeignKey(
        User, on_delete=models.DB_CASCADE, db_index=False, related_name="checkins"
    )
    date = models.DateField(help_text=gettext_lazy("The day in the person's own time zone."))
    stress = models.SmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="0 = no stress at all, 100 = the most stress you can imagine.",
    )
    sleep_hours = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("24"))],
        help_text=gettext_lazy("Hours slept last night (optional)."),
    )
    energy = models.SmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 = exhausted, 5 = full of energy (optional).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "health_checkins"
        ordering = ["-date"]
        permissions = [
            ("read_checkins", gettext_lazy("Can read other people's raw wellness check-ins"))
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="health_checkin_user_date_uniq"),
            models.CheckConstraint(
                condition=Q(stress__gte=0, stress__lte=100), name="health_checkins_stress_check"
            ),
            models.CheckConstraint(
                condition=Q(sleep_hours__gte=0, sleep_hours__lte=24),
                name="health_checkins_sleep_check",
            ),
            models.CheckConstraint(
                condition=Q(energy__gte=1, energy__lte=5), name="health_checkins_energy_check"
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.user} on {self.date:%Y-%m-%d}"

    @property
    def wellness_score(self) -> int:
        from health.scoring import wellness_score

        return wellness_score(stress=self.stress, sleep_hours=self.sleep_hours, energy=self.energy)


class SalesHealthMetric(models.Model):
    """One person's day: stress next to sales activity (the plan's `sales_health_metrics`).

    Definitions of the three activity figures are in `health.metrics`.
    """

    pk = models.CompositePrimaryKey("user_id", "date")
    user = models.ForeignKey(
        User, on_delete=models.DB_CASCADE, db_index=False, related_name="sales_health_metrics"
    )
    date = models.DateField()
    stress_level = models.SmallIntegerField()
    interaction_count = models.IntegerField()
    deal_velocity = models.FloatField()
    conversion_rate = models.FloatField()

    class Meta:
        db_table = "sales_health_metrics"
        ordering = ["-date"]
        indexes = [
            models.Index(fields=["user"], name="idx_sales_health_metrics_user"),
            models.Index(fields=["date"], name="idx_sales_health_metrics_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(stress_level__gte=0, stress_level__lte=100),
                name="sales_health_metrics_stress_level_check",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.date:%Y-%m-%d}"


def _zero_or_at_least_k(field: str) -> Q:
    return Q(**{field: 0}) | Q(**{f"{field}__gte": MIN_CONTRIBUTORS})


class PublishedWeek(models.Model):
    """One team's wellness figures of one ended week (Monday to Sunday), as first shown.

    Written only by `health.services.insights_publish` and never changed afterwards, so there
    is one figure per team and week to see, never a before and after to compare. Holds no
    person's data: `people` (at least `MIN_CONTRIBUTORS`, checked by the database) took part
    and had check-ins that week; `mean_stress` is the mean of their weekly means; `low`,
    `moderate` and `high` count them by their weekly mean (0-39, 40-69, 70-100), all three
    null when a band held 1 to `MIN_CONTRIBUTORS - 1` people (the database checks that a
    shown band holds 0 or at least `MIN_CONTRIBUTORS` and that the three add up).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, db_index=False, related_name="+")
    week_start = models.DateField(help_text=gettext_lazy("The Monday the week begins."))
    people = models.SmallIntegerField()
    mean_stress = models.SmallIntegerField()
    low = models.SmallIntegerField(null=True, blank=True)
    moderate = models.SmallIntegerField(null=True, blank=True)
    high = models.SmallIntegerField(null=True, blank=True)
    published_at = models.DateTimeField()

    class Meta:
        db_table = "health_published_weeks"
        ordering = ["team", "-week_start"]
        permissions = [
            (
                "view_team_insights",
                gettext_lazy("Can view the wellness insights of teams one is not in"),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week_start"], name="health_published_week_team_week_uniq"
            ),
            models.CheckConstraint(
                condition=Q(people__gte=MIN_CONTRIBUTORS), name="health_published_week_k_check"
            ),
            models.CheckConstraint(
                condition=Q(mean_stress__gte=0, mean_stress__lte=100),
                name="health_published_week_mean_check",
            ),
            models.CheckConstraint(
                condition=Q(low__isnull=True, moderate__isnull=True, high__isnull=True)
                | (
                    _zero_or_at_least_k("low")
                    & _zero_or_at_least_k("moderate")
                    & _zero_or_at_least_k("high")
                    & Q(people=F("low") + F("moderate") + F("high"))
                ),
                name="health_published_week_bands_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} in the week of {self.week_start:%Y-%m-%d}"


class PublishedWeekContributor(models.Model):
    """Who a published week's figures came from, kept only to compare contributor sets when
    another team's figures of the same week are published; never shown, and no alias.

    A person's rows go when they withdraw team insights (`sales_health_metrics_erase`) or
    their account is deleted; the published figures stay as they are.
    """

    pk = models.CompositePrimaryKey("week_id", "user_id")
    week = models.ForeignKey(
        PublishedWeek, on_delete=models.DB_CASCADE, db_index=False, related_name="contributors"
    )
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="+")

    class Meta:
        db_table = "health_published_week_contributors"

    def __str__(self) -> str:
        return f"Contributor to {self.week_id}"
