"""CRM records: organizations, contacts, the interaction timeline, pipelines, stages and deals.

Table names follow the integration plan (`crm_contacts`, `crm_interactions`, `crm_pipelines`,
`crm_pipeline_stages`, `crm_deals`). Every record belongs to a team; `visible_to(user)` on each
queryset applies the one visibility rule (`coop.visibility`) for every view, partial and export.
"""

import datetime
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coop.models import Team, User
from coop.money import CURRENCY_CHOICES
from coop.visibility import TeamScopedQuerySet


class OrganizationSize(models.TextChoices):
    MICRO = "1-9", _("1-9 people")
    SMALL = "10-49", _("10-49 people")
    MEDIUM = "50-249", _("50-249 people")
    LARGE = "250+", _("250 people or more")


class TagColor(models.TextChoices):
    """The colours a tag may take: named, so the stylesheet (not the data) decides the
    shades, each readable as text on its background."""

    GREY = "grey", _("Grey")
    RED = "red", _("Red")
    ORANGE = "orange", _("Orange")
    GREEN = "green", _("Green")
    TEAL = "teal", _("Teal")
    BLUE = "blue", _("Blue")
    PURPLE = "purple", _("Purple")
    PINK = "pink", _("Pink")


class Tag(models.Model):
    """A team's label for its contacts, organizations and deals ("partner", "Q3 push").
    Names are unique within the team whatever their case; `crm.tagging` creates them as
    people type them and keeps a record's tags within the record's team."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="tags")
    name = models.CharField(max_length=40)
    color = models.CharField(max_length=10, choices=TagColor.choices, default=TagColor.GREY)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_tags"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("team", Lower("name"), name="crm_tag_team_name_uniq"),
            models.CheckConstraint(
                condition=Q(color__in=TagColor.values), name="crm_tags_color_check"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """A company, cooperative or public body the team's contacts work for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="organizations")
    name = models.CharField(max_length=200)
    website = models.URLField(blank=True)
    # Lower case, without "www.": what import and dedupe match organizations on. Taken from
    # the website when left empty (crm.services.organization_domain).
    domain = models.CharField(max_length=253, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    industry = models.CharField(max_length=120, blank=True)
    size = models.CharField(max_length=10, choices=OrganizationSize.choices, blank=True)
    notes = models.TextField(blank=True)
    # Who looks after the account; set by a manager (crm.owners), empty until then.
    owner = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="owned_organizations",
    )
    tags = models.ManyToManyField(
        Tag, blank=True, through="OrganizationTag", related_name="organizations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_organizations"
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["team", "domain"],
                condition=~Q(domain=""),
                name="crm_organization_domain_idx",
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="crm_organization_team_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # DO_NOTHING: a plain foreign key, so the database refuses to delete a team with contacts.
    team = models.ForeignKey(Team, on_delete=models.DO_NOTHING, related_name="contacts")
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="owned_contacts"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="contacts",
    )
    job_title = models.CharField(max_length=150, blank=True)
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, through="ContactTag", related_name="contacts")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A new random value, in the same transaction, whenever what the contact's timeline shows
    # changes (its interactions, their meetings, their authors' names; crm/receivers.py): the
    # key of its cached first page (crm/timeline.py). Random, so a key never comes back.
    timeline_version = models.UUIDField(default=uuid.uuid4, editable=False)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_contacts"
        ordering = ["name"]
        indexes = [
            models.Index(fields=["team", "name"], name="crm_contact_team_name_idx"),
            models.Index(fields=["email"], name="crm_contact_email_idx"),
            # The contact list's order: its first page read in order, not all of them sorted.
            models.Index(fields=["name", "id"], name="crm_contact_name_id_idx"),
        ]
        constraints = [
            # One contact per email address within a team, whatever the case: what import
            # and merge rely on, and what the service checks first to say it kindly.
            models.UniqueConstraint(
                "team",
                Lower("email"),
                condition=~Q(email=""),
                name="crm_contact_team_email_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Saving a contact never writes `timeline_version`: an instance loaded before a
        timeline change would put the old version back, and with it a stale cached page."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "timeline_version"
            ]
        super().save(*args, **kwargs)


class InteractionType(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", pgettext_lazy("interaction", "Email")
    MEETING = "meeting", _("Meeting")
    MESSAGE = "message", _("Message")
    PLATFORM_EVENT = "platform_event", _("Platform event")
    CALENDAR_EVENT = "calendar_event", _("Calendar event")


class InteractionQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> "InteractionQuerySet":
        """The entries of the contacts the user sees."""
        return self.filter(contact__in=Contact.objects.visible_to(user).values("pk"))


class Interaction(models.Model):
    """One entry of a contact's timeline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on the three keys: the timeline and author indexes below lead
    # with them, and the meeting link has a partial index (almost every entry has none). At a
    # million rows each extra index slows every insert.
    contact = models.ForeignKey(
        Contact, on_delete=models.DB_CASCADE, db_index=False, related_name="interactions"
    )
    author = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        db_index=False,
        related_name="interactions",
    )
    interaction_type = models.CharField(max_length=20, choices=InteractionType.choices)
    summary = models.CharField(max_length=255)
    details = models.TextField(blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    # The meeting this entry stands for (type `calendar_event`); the database sets it to NULL
    # when the event row is deleted, as the integration plan's SQL says.
    calendar_event = models.ForeignKey(
        "calendar_app.Event",
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        db_index=False,
        related_name="interactions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InteractionQuerySet.as_manager()

    class Meta:
        db_table = "crm_interactions"
        ordering = ["-timestamp", "-created_at"]
        indexes = [
            models.Index(
                fields=["contact", "-timestamp", "-created_at"], name="crm_interaction_timeline_idx"
            ),
            models.Index(fields=["author", "timestamp"], name="crm_interaction_author_idx"),
            models.Index(
                fields=["calendar_event"],
                condition=models.Q(calendar_event__isnull=False),
                name="crm_interaction_event_idx",
            ),
            # A contact's meetings, for its upcoming ones (crm.selectors._upcoming_meetings).
            models.Index(
                fields=["contact", "calendar_event"],
                condition=models.Q(calendar_event__isnull=False),
                name="crm_interaction_meetings_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(interaction_type__in=InteractionType.values),
                name="crm_interactions_interaction_type_check",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_interaction_type_display()}: {self.summary}"


class Pipeline(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="pipelines")
    name = models.CharField(max_length=120)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_pipelines"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="crm_pipeline_team_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class PipelineStage(models.Model):
    """A column of a pipeline. `probability` (0-100) is the chance a deal here is won."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    probability = models.SmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_won = models.BooleanField(default=False, help_text=_("Deals closed as won land here."))
    is_lost = models.BooleanField(default=False, help_text=_("Deals closed as lost land here."))
    # The plan's financial tracking columns. Meaning: the probability-weighted value of the
    # open deals in this stage, in minor units of `expected_value_currency` (the pipeline's
    # currency). Every deal write service refreshes them, and so do bulk loaders
    # (`crm.services.stage_expected_values_refresh`).
    expected_value_cents = models.BigIntegerField(null=True, blank=True)
    expected_value_currency = models.CharField(max_length=3, blank=True, default="")
    # An archived stage takes no new deals and leaves the board; its history stays.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_pipeline_stages"
        ordering = ["pipeline", "position"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="crm_pipeline_stages_probability_check",
            ),
            models.CheckConstraint(
                condition=~Q(is_won=True, is_lost=True),
                name="crm_pipeline_stages_won_or_lost_check",
            ),
            models.UniqueConstraint(
                fields=["pipeline", "name"], name="crm_stage_pipeline_name_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.probability} %)"

    @property
    def is_closing(self) -> bool:
        return self.is_won or self.is_lost

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


# What a team's list of lost reasons starts with (crm.services.lost_reasons_for_team).
DEFAULT_LOST_REASONS = (
    "Price",
    "Chose a competitor",
    "No budget",
    "No decision",
    "Timing",
    "Other",
)


class LostReason(models.Model):
    """Why a team's deals are lost: a per-team list, edited by its managers; a reason in use is
    archived (kept on the deals that name it) rather than deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="lost_reasons")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)
    archived = models.BooleanField(default=False)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_lost_reasons"
        ordering = ["team", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="crm_lost_reason_team_name_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("deal status", "Open")
    WON = "won", pgettext_lazy("deal status", "Won")
    LOST = "lost", pgettext_lazy("deal status", "Lost")


class ForecastCategory(models.TextChoices):
    """The owner's call on an open deal (a won deal counts as closed, whatever it was)."""

    PIPELINE = "pipeline", pgettext_lazy("forecast category", "Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", pgettext_lazy("forecast category", "Commit")
    OMITTED = "omitted", _("Omitted")


# A stage's default category, from its probability: at least COMMIT_FROM % is commit, at least
# BEST_CASE_FROM % best case, anything less pipeline.
COMMIT_FROM, BEST_CASE_FROM = 80, 50


def stage_forecast_category(stage: PipelineStage) -> str:
    """The category a deal in `stage` has until someone chooses one."""
    if stage.probability >= COMMIT_FROM:
        return ForecastCategory.COMMIT
    if stage.probability >= BEST_CASE_FROM:
        return ForecastCategory.BEST_CASE
    return ForecastCategory.PIPELINE


# On the pipeline board a deal without an expected close date sorts after every dated one,
# as if it closed on the last representable day (crm.board and its index below).
NO_CLOSE_DATE = datetime.date(9999, 12, 31)


class DealQuerySet(TeamScopedQuerySet):
    team_field = "pipeline__team_id"

    def open(self) -> "DealQuerySet":
        return self.filter(status=DealStatus.OPEN)


class Deal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # DO_NOTHING: plain foreign keys, so the database refuses to delete a pipeline or a stage
    # that still holds deals (Django 6.1 has no DB_RESTRICT, and the other references of this
    # table must be database-level because forecast_deals cascades to it in the database).
    pipeline = models.ForeignKey(Pipeline, on_delete=models.DO_NOTHING, related_name="deals")
    stage = models.ForeignKey(PipelineStage, on_delete=models.DO_NOTHING, related_name="deals")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="deals"
    )
    owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="deals"
    )
    title = models.CharField(max_length=200)
    value_cents = models.BigIntegerField(help_text=_("Value in minor units of `currency`."))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    expected_close_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=DealStatus.choices, default=DealStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    # Follows the stage (`stage_forecast_category`) until the owner or a manager chooses one;
    # then `forecast_category_chosen` is set and a move no longer changes it.
    forecast_category = models.CharField(
        max_length=20, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    forecast_category_chosen = models.BooleanField(default=False)
    # The owner's wellness score when the deal closed; set only with the owner's consent and
    # cleared when they revoke it (the health module decides, through its service API).
    wellness_score_at_deal = models.SmallIntegerField(null=True, blank=True)
    # Whose score it is: the owner when the deal closed. Withdrawal clears by this person, so a
    # later change of owner neither keeps the score nor credits it to someone else.
    wellness_score_user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DB_SET_NULL,
        related_name="+",
        editable=False,
    )
    # Why a lost deal was lost (required when closing as lost) and the closer's comment.
    # DO_NOTHING: a plain foreign key, so the database refuses to delete a reason in use.
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="deals"
    )
    lost_comment = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, through="DealTag", related_name="deals")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The latest of the deal's own change, a note or done task on it and an interaction with
    # its contact: kept by the writes that make activity (`crm.activity`), read by "My day".
    last_activity_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = DealQuerySet.as_manager()

    class Meta:
        db_table = "crm_deals"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["stage", "status"], name="crm_deal_stage_status_idx"),
            models.Index(fields=["pipeline", "status"], name="crm_deal_pipeline_status_idx"),
            models.Index(fields=["owner", "status"], name="crm_deal_owner_status_idx"),
            models.Index(fields=["status", "expected_close_date"], name="crm_deal_close_date_idx"),
            # A person's open deals by close date: My day's lists stop after their first rows.
            models.Index(
                fields=["owner", "expected_close_date"],
                condition=Q(status=DealStatus.OPEN),
                name="crm_deal_open_owner_close_idx",
            ),
            # The board's columns, paged by keyset on (sort key, id): by close date (undated
            # last) and by value. A page walks one stage's entries from the cursor on.
            models.Index(
                F("stage"),
                Coalesce("expected_close_date", Value(NO_CLOSE_DATE)),
                F("id"),
                condition=Q(status=DealStatus.OPEN),
                name="crm_deal_open_stage_close_idx",
            ),
            models.Index(
                fields=["stage", "value_cents", "id"],
                condition=Q(status=DealStatus.OPEN),
                name="crm_deal_open_stage_value_idx",
            ),
            # A person's open deals by last activity: the stale ones, when they are few.
            models.Index(
                fields=["owner", "last_activity_at"],
                condition=Q(status=DealStatus.OPEN),
                name="crm_deal_open_owner_active_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DealStatus.values), name="crm_deals_status_check"
            ),
            models.CheckConstraint(condition=Q(value_cents__gte=0), name="crm_deals_value_check"),
            models.CheckConstraint(
                condition=Q(forecast_category__in=ForecastCategory.values),
                name="crm_deals_forecast_category_check",
            ),
            models.CheckConstraint(
                condition=Q(wellness_score_at_deal__gte=0, wellness_score_at_deal__lte=100),
                name="crm_deals_wellness_score_at_deal_check",
            ),
            models.CheckConstraint(
                condition=Q(status=DealStatus.OPEN, closed_at__isnull=True)
                | (~Q(status=DealStatus.OPEN) & Q(closed_at__isnull=False)),
                name="crm_deals_closed_at_check",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        """A change of the deal (a stage move too) is activity on it: its last activity is now."""
        self.last_activity_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "last_activity_at"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status == DealStatus.OPEN


class ForecastCategoryChange(models.Model):
    """One change of a deal's forecast category by a person, kept for the manager's review;
    `by_manager` when someone other than the owner made it."""

    id = models.BigAutoField(primary_key=True)
    deal = models.ForeignKey(
        Deal, on_delete=models.DB_CASCADE, related_name="forecast_category_changes"
    )
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    from_category = models.CharField(max_length=20, choices=ForecastCategory.choices)
    to_category = models.CharField(max_length=20, choices=ForecastCategory.choices)
    by_manager = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "crm_deal_forecast_category_changes"
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "-changed_at"], name="crm_forecast_cat_deal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_category} -> {self.to_category}"


class StageVisit(models.Model):
    """A deal's stay in one open stage, from `entered_at` until `left_at` (empty while it is
    still there): how long deals stay in each stage and where they went, kept by the deal
    services (a move or a closing ends the visit) and listed on the deal page."""

    id = models.BigAutoField(primary_key=True)
    deal = models.ForeignKey(Deal, on_delete=models.DB_CASCADE, related_name="stage_visits")
    # A snapshot, not a foreign key (as in `forecast_deals`): a stage may be renamed or
    # deleted later without rewriting or losing the history.
    stage_id = models.UUIDField()
    stage_name = models.CharField(max_length=80)
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_deal_stage_visits"
        ordering = ["-entered_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "-entered_at"], name="crm_stage_visit_deal_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("entered_at")),
                name="crm_stage_visits_order_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} in {self.stage_id} from {self.entered_at}"

    @property
    def days(self) -> int | None:
        """Whole days spent in the stage (None while the deal is still there)."""
        return None if self.left_at is None else (self.left_at - self.entered_at).days


class StageChangeKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("stage change", "Created")
    MOVED = "moved", _("Moved")
    WON = "won", pgettext_lazy("deal status", "Won")
    LOST = "lost", pgettext_lazy("deal status", "Lost")
    REOPENED = "reopened", _("Reopened")


class StageChange(models.Model):
    """Every change of a deal's stage, with its time (aware, UTC): its creation in a first
    stage, each move, its closing and its reopening. Written by the deal services in the same
    transaction as the change; what the funnel, velocity and pipeline-changes reports read.
    Stages are kept as snapshots (id and name), so renaming or archiving one rewrites nothing."""

    id = models.BigAutoField(primary_key=True)
    deal = models.ForeignKey(Deal, on_delete=models.DB_CASCADE, related_name="stage_changes")
    kind = models.CharField(max_length=10, choices=StageChangeKind.choices)
    from_stage_id = models.UUIDField(null=True, blank=True)
    from_stage_name = models.CharField(max_length=80, blank=True)
    to_stage_id = models.UUIDField()
    to_stage_name = models.CharField(max_length=80)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    # Kept for the reports by `crm.services.stage_history_refresh` (every writer of this table
    # calls it): the deal's pipeline (a deal never changes pipeline), so that the visibility
    # rule and the pipeline filter read this table alone; and when the stay this change began
    # ended (the deal's next change in (changed_at, id) order; null for its latest).
    pipeline = models.ForeignKey(
        Pipeline,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_index=False,
        related_name="+",
    )
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "crm_deal_stage_changes"
        ordering = ["changed_at", "id"]
        indexes = [
            models.Index(fields=["deal", "changed_at"], name="crm_stage_change_deal_idx"),
            models.Index(fields=["changed_at"], name="crm_stage_change_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=StageChangeKind.values), name="crm_stage_changes_kind_check"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_name or '-'} -> {self.to_stage_name}"


class ActivityHour(models.Model):
    """What the activity report counts, per team, person and hour (UTC, `hour` its start):
    timeline entries the person wrote about the team's contacts, split into meetings and the
    rest, and the team's tasks the person ticked done. Hours, so that the weeks of any time zone
    whose offset is whole hours are sums of them. Kept by `crm.activity_totals` in the same
    transaction as every write that changes them (recounted for the hours touched), and
    rebuilt by `manage.py rebuild_report_history`."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="+")
    person = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="+")
    hour = models.DateTimeField()
    interactions = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    tasks_done = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crm_activity_hours"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "hour", "person"], name="crm_activity_hours_unique"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.person_id} {self.hour}: {self.interactions}/{self.meetings}/{self.tasks_done}"
        )


class CloseDateChange(models.Model):
    """A change of an open deal's expected close date (a later date is a slip), kept for the
    pipeline-changes report."""

    id = models.BigAutoField(primary_key=True)
    deal = models.ForeignKey(Deal, on_delete=models.DB_CASCADE, related_name="close_date_changes")
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "crm_deal_close_date_changes"
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["changed_at"], name="crm_close_date_change_at_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_date} -> {self.to_date}"


class OwnedRecord(models.TextChoices):
    DEAL = "deal", _("Deal")
    CONTACT = "contact", _("Contact")
    ORGANIZATION = "organization", _("Organization")


class OwnerChange(models.Model):
    """One reassignment of a deal, contact or organization to another owner (crm.owners)."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="+")
    record_type = models.CharField(max_length=20, choices=OwnedRecord.choices)
    record_id = models.UUIDField()
    from_owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "crm_owner_changes"
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(
                fields=["record_type", "record_id", "-changed_at"], name="crm_owner_change_rec_idx"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(record_type__in=OwnedRecord.values),
                name="crm_owner_changes_record_type_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id}: {self.from_owner_id} -> {self.to_owner_id}"


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    ORGANIZATIONS = "organizations", _("Organizations")
    DEALS = "deals", _("Deals")


class ImportStatus(models.TextChoices):
    RUNNING = "running", _("Running in the background")
    IMPORTED = "imported", pgettext_lazy("import status", "Imported")
    REFUSED = "refused", _("Refused (nothing written)")
    UNDOING = "undoing", _("Being undone in the background")
    UNDONE = "undone", _("Undone")


class ImportRun(models.Model):
    """One import of a file: who, when, which file, what it did. Its records
    (`ImportedRecord`) let it be undone while they are unchanged."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="import_runs")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_runs"
    )
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=ImportStatus.choices)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # The refused rows: [{"row": n, "cells": [...], "reason": "..."}], for the error file.
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A background import's file while it waits and runs, in the default storage (MEDIA_ROOT,
    # the place every web process and worker shares); emptied when the import ends.
    file = models.FileField(upload_to="imports/", max_length=255, blank=True)
    # How far a background import got, written by `crm.imports.ProgressWriter` outside the
    # import's transaction, for the progress bar.
    progress_rows = models.PositiveIntegerField(default=0)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    # Why the last background undo could not be done (the import is "imported" again).
    undo_error = models.TextField(blank=True)

    class Meta:
        db_table = "crm_import_runs"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"


class ImportedRecord(models.Model):
    """A record an import created or changed; `before` holds the changed fields' old values."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="records")
    model = models.CharField(max_length=20)  # "organization", "contact" or "deal"
    object_id = models.UUIDField()
    before = models.JSONField(null=True, blank=True)  # None: the import created it

    class Meta:
        db_table = "crm_imported_records"

    def __str__(self) -> str:
        return f"{self.model} {self.object_id}"


class ImportMapping(models.Model):
    """The column mapping a team chose for files with these headers, offered again."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="import_mappings")
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    headers_key = models.CharField(max_length=64)  # sha256 of the header row
    mapping = models.JSONField(default=list)

    class Meta:
        db_table = "crm_import_mappings"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "kind", "headers_key"], name="crm_import_mapping_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} mapping"


class TaskPriority(models.IntegerChoices):
    LOW = 1, pgettext_lazy("priority", "Low")
    NORMAL = 2, pgettext_lazy("priority", "Normal")
    HIGH = 3, pgettext_lazy("priority", "High")


def _one_record_q() -> Q:
    """Exactly one of contact, organization and deal is set."""
    contact, organization, deal = (
        Q(contact__isnull=False),
        Q(organization__isnull=False),
        Q(deal__isnull=False),
    )
    return (
        (contact & ~organization & ~deal)
        | (~contact & organization & ~deal)
        | (~contact & ~organization & deal)
    )


class TaskQuerySet(TeamScopedQuerySet):
    def open(self) -> "TaskQuerySet":
        return self.filter(completed_at__isnull=True)


class Task(models.Model):
    """A next step on a contact, an organization or a deal (exactly one): what, by when, by
    whom. `due_date` is the day in the assignee's time zone; `due_at` the instant when a time
    was given. Open while `completed_at` is empty. Written by `crm.next_steps` only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The record's team, copied so visibility and the home page filter without joins.
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    due_date = models.DateField()
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    assignee = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="tasks"
    )
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="tasks"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="tasks"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="tasks"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="+"
    )
    # The assignee's reminder: due at `remind_at`, sent once (`reminder_sent_at`) by the
    # calendar's reminder run (`crm.next_steps.task_reminders_send_due`).
    remind_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        db_table = "crm_tasks"
        ordering = ["due_date", "due_at", "-priority", "created_at"]
        indexes = [
            models.Index(
                fields=["assignee", "due_date"],
                condition=Q(completed_at__isnull=True),
                name="crm_task_open_assignee_idx",
            ),
            models.Index(
                fields=["remind_at"],
                condition=Q(reminder_sent_at__isnull=True, completed_at__isnull=True),
                name="crm_task_reminder_due_idx",
            ),
            models.Index(fields=["deal", "completed_at"], name="crm_task_deal_idx"),
            models.Index(fields=["contact", "completed_at"], name="crm_task_contact_idx"),
            models.Index(fields=["organization", "completed_at"], name="crm_task_organization_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=_one_record_q(), name="crm_tasks_one_record_check"),
            models.CheckConstraint(
                condition=Q(priority__in=TaskPriority.values), name="crm_tasks_priority_check"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True, completed_by__isnull=True)
                | Q(completed_at__isnull=False),
                name="crm_tasks_completed_check",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    @property
    def record(self):
        return self.contact or self.organization or self.deal


class Note(models.Model):
    """A Markdown note on a contact, an organization or a deal (exactly one), by its author;
    shown rendered and sanitised (`crm.notes.note_html`). Written by `crm.notes` only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.DB_CASCADE, related_name="crm_notes")
    author = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DB_SET_NULL, related_name="crm_notes"
    )
    body = models.TextField()
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="crm_notes"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="crm_notes"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.DB_CASCADE, related_name="crm_notes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamScopedQuerySet.as_manager()

    class Meta:
        db_table = "crm_notes"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["deal", "-created_at"], name="crm_note_deal_idx"),
            models.Index(fields=["contact", "-created_at"], name="crm_note_contact_idx"),
            models.Index(fields=["organization", "-created_at"], name="crm_note_organization_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=_one_record_q(), name="crm_notes_one_record_check"),
        ]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def record(self):
        return self.contact or self.organization or self.deal

    @property
    def edited(self) -> bool:
        return (self.updated_at - self.created_at).total_seconds() > 1


class NoteMention(models.Model):
    """A team member mentioned (`@username`) in a note: notified once, whatever the edits."""

    id = models.BigAutoField(primary_key=True)
    note = models.ForeignKey(Note, on_delete=models.DB_CASCADE, related_name="mentions")
    user = models.ForeignKey(User, on_delete=models.DB_CASCADE, related_name="+")

    class Meta:
        db_table = "crm_note_mentions"
        constraints = [
            models.UniqueConstraint(fields=["note", "user"], name="crm_note_mention_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.note_id}"


def _tagging(record: type[models.Model], field: str, table: str) -> type[models.Model]:
    """The link table between `record` and its tags; the database deletes a link with either
    end (as for every other reference in this schema that a record does not outlive)."""

    class Meta:
        db_table = table
        constraints = [
            models.UniqueConstraint(fields=[field, "tag"], name=f"{table}_uniq"),
        ]
        indexes = [models.Index(fields=["tag", field], name=f"{table}_tag_idx")]

    attrs = {
        "__module__": __name__,
        "id": models.BigAutoField(primary_key=True),
        field: models.ForeignKey(record, on_delete=models.DB_CASCADE, related_name="+"),
        "tag": models.ForeignKey(Tag, on_delete=models.DB_CASCADE, related_name="+"),
        "Meta": Meta,
        "__str__": lambda self: f"{getattr(self, field + '_id')} #{self.tag_id}",
    }
    return type(f"{record.__name__}Tag", (models.Model,), attrs)


ContactTag = _tagging(Contact, "contact", "crm_contact_tags")
OrganizationTag = _tagging(Organization, "organization", "crm_organization_tags")
DealTag = _tagging(Deal, "deal", "crm_deal_tags")


class SearchWord(models.Model):
    """A word of the names and titles the search looks in (lower case, letters only): the
    dictionary the search corrects a mistyped query against (`crm.search`). It only grows: a
    word no record has any more corrects a query to one that finds nothing. Its trigram index
    is created on PostgreSQL by the migration (SQLite has no typo pass)."""

    word = models.CharField(max_length=60, primary_key=True)

    class Meta:
        db_table = "crm_search_words"

    def __str__(self) -> str:
        return self.word
