"""Core records shared by every module: users, teams and team membership with a role."""

import uuid
import zoneinfo
from functools import cache

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coop.languages import Language


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zone_names():
        raise ValidationError(
            _("%(value)s is not a known time zone (use an IANA name such as Europe/Paris)."),
            params={"value": value},
            code="invalid_time_zone",
        )


class ColorScheme(models.TextChoices):
    """A person's colour scheme; AUTO follows the device's `prefers-color-scheme`."""

    AUTO = "auto", _("Same as the device")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")


class User(AbstractUser):
    """A person who signs in. Table `users`, UUID primary key, as the integration plan names it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown and entered in this IANA time zone."),
    )
    language = models.CharField(
        max_length=8,
        choices=Language.choices,
        blank=True,
        help_text=_("Interface and email language; blank follows the browser's Accept-Language."),
    )
    color_scheme = models.CharField(
        max_length=5, choices=ColorScheme.choices, default=ColorScheme.AUTO
    )

    class Meta(AbstractUser.Meta):
        db_table = "users"
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Team(models.Model):
    """A sales team: the unit of record visibility and of team aggregates."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    # "My day" lists an open deal as stale when nothing happened on it for this many days.
    stale_deal_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("An open deal with no activity for this many days is listed as stale."),
    )

    class Meta:
        db_table = "coop_teams"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Manager")
    FINANCE = "finance", _("Finance")


class Membership(models.Model):
    """A user's place in a team. One role per (user, team)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.REP)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "coop_memberships"
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "team"], name="coop_membership_user_team_uniq"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="coop_membership_role_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.team} ({self.get_role_display()})"


class ConsentScope(models.TextChoices):
    """The purposes a person may allow their health data to be used for, each on its own."""

    DEAL_WELLNESS = "deal_wellness", _("Attach my wellness score to deals I close")
    TEAM_INSIGHTS = "team_insights", _("Include me in team wellness insights")
    PERSONAL_RECOMMENDATIONS = (
        "personal_recommendations",
        "Give me personal wellness recommendations",
    )


class Consent(models.Model):
    """A consent that is in force: the row exists while the person allows the purpose.

    Revoking deletes the row (and what was shared under it); the history is in `ConsentEvent`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=40, choices=ConsentScope.choices)
    text_version = models.CharField(max_length=20)
    granted_at = models.DateTimeField()

    class Meta:
        db_table = "coop_consents"
        ordering = ["user__username", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["user", "scope"], name="coop_consent_user_scope_uniq"),
            models.CheckConstraint(
                condition=models.Q(scope__in=ConsentScope.values), name="coop_consent_scope_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_scope_display()}"


class ConsentAction(models.TextChoices):
    GRANT = "grant", _("Granted")
    REVOKE = "revoke", _("Revoked")


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an entry of an append-only log."""


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The consent log is append-only: entries are never changed.")

    def delete(self):
        raise AppendOnlyError("The consent log is append-only: entries are never deleted.")


class ConsentEvent(models.Model):
    """One grant or revocation, as the person saw it: who, what, when, which text, how.

    Append-only: `save()` refuses to change an existing entry and `delete()` refuses to remove
    one (also on querysets). The entries go only when the person's account is erased.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consent_events")
    scope = models.CharField(max_length=40, choices=ConsentScope.choices)
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    text_version = models.CharField(max_length=20)
    method = models.CharField(
        max_length=40, help_text=_("How it was given or withdrawn, e.g. “consent page”.")
    )
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who clicked: the person themself, unless an operator acted for them."),
    )
    at = models.DateTimeField()

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        db_table = "coop_consent_events"
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "-at"], name="coop_consent_event_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=ConsentScope.values),
                name="coop_consent_event_scope_check",
            ),
            models.CheckConstraint(
                condition=models.Q(action__in=ConsentAction.values),
                name="coop_consent_event_action_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_action_display().lower()} {self.get_scope_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The consent log is append-only: entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The consent log is append-only: entries are never deleted.")


class AuditAction(models.TextChoices):
    CONSENT_GRANTED = "consent_granted", _("Consent granted")
    CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
    EXPORTED = "exported", _("Data exported")
    DEAL_CLOSED = "deal_closed", _("Deal closed")
    FORECAST_GENERATED = "forecast_generated", _("Forecast generated")
    HEALTH_DATA_VIEWED = "health_data_viewed", _("Health data viewed")
    ADMIN_ADDED = "admin_added", _("Added in the admin")
    ADMIN_CHANGED = "admin_changed", _("Changed in the admin")
    ADMIN_DELETED = "admin_deleted", _("Deleted in the admin")
    IMPORTED = "imported", _("Data imported")
    IMPORT_UNDONE = "import_undone", _("Import undone")
    MERGED = "merged", _("Records merged")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", _("A person's data exported")
    PERSONAL_DATA_ERASED = "personal_data_erased", _("A person's data erased")
    DEAL_REOPENED = "deal_reopened", _("Deal reopened")
    OWNER_CHANGED = "owner_changed", _("Owner changed")
    PIPELINE_CHANGED = "pipeline_changed", _("Pipeline settings changed")
    LOST_REASONS_CHANGED = "lost_reasons_changed", _("Lost reasons changed")
    BULK_CHANGED = "bulk_changed", _("Records changed in bulk")


class AuditEvent(models.Model):
    """One entry of the append-only audit log: who did what to which record, and when.

    Rows are never updated or deleted: the model refuses it, the admin offers no way to,
    and on PostgreSQL a database trigger rejects UPDATE and DELETE. The actor is
    kept as an id and a name, not a foreign key, so the log outlives the people in it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "coop_audit_events"
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="coop_audit_object_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="coop_audit_action_check"
            )
        ]

    def __str__(self) -> str:
        actor = self.actor_name or "—"
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {actor}: {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")
