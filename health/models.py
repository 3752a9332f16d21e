"""Health records: daily wellness check-ins and the `sales_health_metrics` table of the plan.

Check-ins are special-category data: only their owner reads them in the app; in the admin
only staff who hold the explicit `health.read_checkins` permission. A `sales_health_metrics`
row exists only for a person who allows "team insights" (see `health.services`).
"""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from coop.models import User


class CheckIn(models.Model):
    """How a person felt on one day (their local date). One per person and day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (user, date) constraint serves lookups by user.
    user = models.ForeignKey(
        User, on_delete=models.DB_CASCADE, db_index=False, related_name="checkins"
    )
    date = models.DateField(help_text="The day in the person's own time zone.")
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
        help_text="Hours slept last night (optional).",
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
        permissions = [("read_checkins", "Can read other people's raw wellness check-ins")]
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
