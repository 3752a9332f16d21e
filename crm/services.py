"""CRM write services. Each public function is atomic: it validates, then writes everything or
nothing, and raises `ValidationError` with a message for the person on bad input.

Permission rule: an actor may write a record only when `visible_to(actor)` would show it.
Other modules extend the deal flows by calling these services, never by writing CRM rows.
"""

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coop.audit import audit_record
from coop.dates import validate_supported_date
from coop.models import AuditAction, Team, User
from coop.spreadsheets import csv_stream, xlsx_stream
from coop.validators import require_single_line
from coop.visibility import can_see_team, is_member, manages_team
from crm.activity import contact_activity_touch, deal_activity_refresh
from crm.activity_totals import (
    activity_key,
    activity_keys,
    activity_totals_recount_all,
    activity_totals_refresh,
)
from crm.exchange import export_header, export_rows, headers_key
from crm.models import (
    DEFAULT_LOST_REASONS,
    CloseDateChange,
    Contact,
    Deal,
    DealStatus,
    ForecastCategory,
    ForecastCategoryChange,
    ImportMapping,
    Interaction,
    InteractionType,
    LostReason,
    Organization,
    OwnedRecord,
    Pipeline,
    PipelineStage,
    StageChange,
    StageChangeKind,
    StageVisit,
    Task,
    stage_forecast_category,
)
from crm.owners import owner_changes_record

CONTACT_FIELDS = ("name", "email", "phone", "job_title", "notes")
ORGANIZATION_FIELDS = (
    "name",
    "website",
    "domain",
    "phone",
    "address",
    "industry",
    "size",
    "notes",
)
# Fields that may span lines; every other organization field is a single line.
_MULTILINE = {"address", "notes"}


def _require_team_member(actor: User, team: Team) -> None:
    if not can_see_team(actor, team.pk):
        raise ValidationError(gettext("You can only add records to a team you belong to."))


_NOT_VISIBLE = {
    "contact": _("This contact does not exist or is not visible to you."),
    "organization": _("This organization does not exist or is not visible to you."),
    "pipeline": _("This pipeline does not exist or is not visible to you."),
    "deal": _("This deal does not exist or is not visible to you."),
}
_OWNER_NOT_MEMBER = {
    "contact's": _("The owner must be a member of the contact's team."),
    "pipeline's": _("The owner must be a member of the pipeline's team."),
}


def require_visible(queryset, actor: User, obj, what: str) -> None:
    if not queryset.visible_to(actor).filter(pk=obj.pk).exists():
        raise ValidationError(str(_NOT_VISIBLE[what]))


def _require_owner_member(owner: User, team_id, whose: str) -> None:
    if not is_member(owner, team_id):
        raise ValidationError(str(_OWNER_NOT_MEMBER[whose]))


def _organization_for(team: Team, organization_name: str) -> Organization | None:
    organization_name = organization_name.strip()
    if not organization_name:
        return None
    existing = Organization.objects.filter(team=team, name__iexact=organization_name).first()
    return existing or Organization.objects.get_or_create(team=team, name=organization_name)[0]


def organization_domain(text: str) -> str:
    """The host of a website or an email domain, lower case and without "www."
    ("https://WWW.Example.coop/about" -> "example.coop"): how organizations are matched."""
    text = text.strip().lower()
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    return host.removeprefix("www.").rstrip(".")


def _clean_organization(organization: Organization) -> None:
    """Field validation (the domain taken from the website when empty), plus one organization
    per name within a team."""
    organization.domain = organization_domain(organization.domain or organization.website)
    organization.full_clean(exclude=["team"], validate_constraints=False)
    twin = (
        Organization.objects.filter(team_id=organization.team_id, name__iexact=organization.name)
        .exclude(pk=organization.pk)
        .exists()
    )
    if twin:
        raise ValidationError(
            {"name": gettext("This team already has an organization of this name.")}
        )


def _organization_values(fields: dict[str, str]) -> dict[str, str]:
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown organization fields: {sorted(unknown)}")
    require_single_line(**{name: value for name, value in fields.items() if name not in _MULTILINE})
    return {name: value if name in _MULTILINE else value.strip() for name, value in fields.items()}


@transaction.atomic
def organization_create(*, actor: User, team: Team, name: str, **fields: str) -> Organization:
    """Create an organization in one of the actor's teams; its name is unique in the team
    (whatever the case)."""
    _require_team_member(actor, team)
    organization = Organization(team=team, **_organization_values({"name": name, **fields}))
    _clean_organization(organization)
    organization.save()
    return organization


@transaction.atomic
def organization_update(*, actor: User, organization: Organization, **fields: str) -> Organization:
    """Change a visible organization's fields (see ORGANIZATION_FIELDS), row-locked."""
    values = _organization_values(fields)
    organization = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    require_visible(Organization.objects, actor, organization, "organization")
    for field, value in values.items():
        setattr(organization, field, value)
    _clean_organization(organization)
    organization.save()
    return organization


def stage_expected_values_refresh(*, pipeline_id) -> None:
    """Recompute `expected_value_cents/_currency` of every stage of a pipeline in one UPDATE
    (every deal write calls it in its transaction; so must a bulk load that bypasses them):
    the stage's probability x the total value of its open deals / 100, rounded half-even,
    in the pipeline's currency (0 for a stage without open deals)."""
    open_total = Subquery(
        Deal.objects.filter(stage_id=OuterRef("pk"), status=DealStatus.OPEN)
        .order_by()
        .values("stage_id")
        .annotate(total=Sum("value_cents"))
        .values("total")
    )
    # Integer arithmetic throughout (PostgreSQL sums bigints as numeric, hence the cast).
    weighted = Cast(Coalesce(open_total, Value(0)), BigIntegerField()) * F("probability")
    quotient = weighted / 100
    remainder = weighted - quotient * 100
    PipelineStage.objects.filter(pipeline_id=pipeline_id).update(
        expected_value_cents=Case(
            When(GreaterThan(remainder, 50), then=quotient + 1),
            When(Exact(remainder, 50), then=quotient + (quotient - quotient / 2 * 2)),
            default=quotient,
        ),
        expected_value_currency=Subquery(
            Pipeline.objects.filter(pk=OuterRef("pipeline_id")).values("currency")[:1]
        ),
    )


def _clean_contact(contact: Contact) -> None:
    """Field validation, plus one contact per email address within a team."""
    contact.full_clean(exclude=["organization", "owner", "team"])
    if contact.email:
        twin = (
            Contact.objects.filter(team_id=contact.team_id, email__iexact=contact.email)
            .exclude(pk=contact.pk)
            .first()
        )
        if twin is not None:
            raise ValidationError(
                {
                    "email": gettext("%(name)s already has this email address in this team.")
                    % {"name": twin.name}
                }
            )


@transaction.atomic
def contact_create(
    *,
    actor: User,
    team: Team,
    name: str,
    email: str = "",
    phone: str = "",
    organization_name: str = "",
    job_title: str = "",
    notes: str = "",
    owner: User | None = None,
) -> Contact:
    """Create a contact in one of the actor's teams, owned by the actor or by `owner`, a
    member of the team."""
    _require_team_member(actor, team)
    require_single_line(name=name, phone=phone, organization=organization_name, job_title=job_title)
    if owner is not None:
        _require_owner_member(owner, team.pk, "contact's")
    contact = Contact(
        team=team,
        owner=owner or actor,
        name=name.strip(),
        email=email.strip(),
        phone=phone.strip(),
        job_title=job_title.strip(),
        notes=notes,
    )
    _clean_contact(contact)
    contact.organization = _organization_for(team, organization_name)
    contact.save()
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User,
    contact: Contact,
    organization_name: str | None = None,
    owner: User | None = None,
    **fields: str,
) -> Contact:
    """Change a visible contact's fields (name, email, phone, job_title, notes, organization)
    and, when given, its owner (a member of the contact's team)."""
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown contact fields: {sorted(unknown)}")
    require_single_line(
        **{name: value for name, value in fields.items() if name != "notes"},
        organization=organization_name or "",
    )
    contact = Contact.objects.select_for_update(no_key=True).get(pk=contact.pk)
    require_visible(Contact.objects, actor, contact, "contact")
    if owner is not None:
        _require_owner_member(owner, contact.team_id, "contact's")
        if owner.pk != contact.owner_id:
            owner_changes_record(
                actor=actor,
                record_type=OwnedRecord.CONTACT,
                records=[(contact, contact.team_id, contact.owner_id)],
                owner=owner,
            )
        contact.owner = owner
    for field, value in fields.items():
        setattr(contact, field, value.strip() if field != "notes" else value)
    _clean_contact(contact)
    if organization_name is not None:
        contact.organization = _organization_for(contact.team, organization_name)
    contact.save()
    return contact


@transaction.atomic
def interaction_log(
    *,
    actor: User,
    contact: Contact,
    interaction_type: str,
    summary: str,
    details: str = "",
    timestamp: datetime | None = None,
) -> Interaction:
    """Add an entry to a visible contact's timeline, authored by the actor."""
    require_visible(Contact.objects, actor, contact, "contact")
    if interaction_type not in InteractionType.values:
        raise ValidationError(
            gettext("Unknown interaction type %(type)s."), params={"type": interaction_type}
        )
    if interaction_type == InteractionType.CALENDAR_EVENT:
        raise ValidationError(
            gettext("Schedule a meeting to add a calendar event to the timeline.")
        )
    require_single_line(summary=summary)
    if timestamp is not None:
        validate_supported_date(timestamp)
    interaction = Interaction(
        contact=contact,
        author=actor,
        interaction_type=interaction_type,
        summary=summary.strip(),
        details=details,
        timestamp=timestamp or timezone.now(),
    )
    interaction.full_clean(exclude=["contact", "author"])
    interaction.save()
    contact_activity_touch(contact.pk, interaction.timestamp)
    activity_totals_refresh(activity_key(contact.team_id, actor.pk, interaction.timestamp))
    return interaction


def _validate_deal_parts(
    *, actor: User, pipeline: Pipeline, stage: PipelineStage, contact: Contact | None
) -> None:
    require_visible(Pipeline.objects, actor, pipeline, "pipeline")
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError(gettext("The stage belongs to another pipeline."))
    if stage.is_closing:
        raise ValidationError(
            gettext("A new or open deal goes in an open stage; close it to win or lose.")
        )
    if stage.is_archived:
        raise ValidationError(gettext("This stage is archived; choose an open stage."))
    if contact is not None:
        require_visible(Contact.objects, actor, contact, "contact")
        if contact.team_id != pipeline.team_id:
            raise ValidationError(gettext("The contact belongs to another team than the pipeline."))


@transaction.atomic
def deal_create(
    *,
    actor: User,
    pipeline: Pipeline,
    stage: PipelineStage,
    title: str,
    value_cents: int,
    contact: Contact | None = None,
    owner: User | None = None,
    expected_close_date: date | None = None,
) -> Deal:
    """Open a deal in an open stage of a visible pipeline, in the pipeline's currency."""
    _validate_deal_parts(actor=actor, pipeline=pipeline, stage=stage, contact=contact)
    require_single_line(title=title)
    if expected_close_date is not None:
        validate_supported_date(expected_close_date)
    owner = owner or actor
    _require_owner_member(owner, pipeline.team_id, "pipeline's")
    deal = Deal(
        pipeline=pipeline,
        stage=stage,
        contact=contact,
        owner=owner,
        title=title.strip(),
        value_cents=value_cents,
        currency=pipeline.currency,
        expected_close_date=expected_close_date,
        forecast_category=stage_forecast_category(stage),
    )
    deal.full_clean(exclude=["pipeline", "stage", "contact", "owner"])
    deal.save()
    _stage_visit_start(deal, stage)
    stage_change_record(
        deal=deal, kind=StageChangeKind.CREATED, to_stage=stage, at=deal.stage_entered_at, by=actor
    )
    stage_expected_values_refresh(pipeline_id=deal.pipeline_id)
    return deal


def stage_change_record(
    *,
    deal: Deal,
    kind: str,
    to_stage: PipelineStage,
    at: datetime,
    by: User | None,
    from_stage: PipelineStage | None = None,
) -> StageChange:
    """Record one change of a deal's stage at `at` (aware; stored in UTC), inside the caller's
    transaction: every deal service that sets a stage calls it."""
    change = StageChange.objects.create(
        deal=deal,
        pipeline_id=deal.pipeline_id,
        kind=kind,
        from_stage_id=from_stage.pk if from_stage else None,
        from_stage_name=from_stage.name if from_stage else "",
        to_stage_id=to_stage.pk,
        to_stage_name=to_stage.name,
        changed_at=at,
        changed_by=by if by is not None and by.is_authenticated else None,
    )
    stage_history_refresh(deals=Deal.objects.filter(pk=deal.pk))
    return change


# Each stage change's pipeline (its deal's) and the end of the stay it began: the deal's next
# change in (changed_at, id) order, which is what LEAD() gives. Rows already right are left
# alone, so a rebuild over the whole table is idempotent and writes only what was wrong.
STAGE_HISTORY_SQL = """
UPDATE crm_deal_stage_changes SET pipeline_id = n.pipeline_id, left_at = n.next_at
FROM (
    SELECT s.id, d.pipeline_id,
           LEAD(s.changed_at) OVER (PARTITION BY s.deal_id ORDER BY s.changed_at, s.id)
               AS next_at
    FROM crm_deal_stage_changes s JOIN crm_deals d ON d.id = s.deal_id
    {where}
) AS n
WHERE crm_deal_stage_changes.id = n.id
  AND (crm_deal_stage_changes.pipeline_id IS DISTINCT FROM n.pipeline_id
       OR crm_deal_stage_changes.left_at IS DISTINCT FROM n.next_at)
"""


@transaction.atomic(durable=True)
def report_history_rebuild() -> tuple[int, int]:
    """Recompute what the reports keep (`manage.py rebuild_report_history`), in one
    transaction: the report columns of the whole stage history (only rows that were wrong are
    written; none when every writer kept them) and every activity total. Idempotent. Returns
    (stage changes corrected, activity totals)."""
    return stage_history_refresh(), activity_totals_recount_all()


def stage_history_refresh(*, deals: QuerySet[Deal] | None = None) -> int:
    """Set the report columns of the stage changes of `deals` (all deals when None) from the
    history itself, inside the caller's transaction; every writer of `crm_deal_stage_changes`
    calls it after writing (and `manage.py stage_history_rebuild` over everything). Returns
    the number of rows corrected."""
    where, params = "", ()
    if deals is not None:
        deals_sql, params = deals.order_by().values("pk").query.sql_with_params()
        where = f"WHERE s.deal_id IN ({deals_sql})"
    with connection.cursor() as cursor:
        cursor.execute(STAGE_HISTORY_SQL.format(where=where), params)
        return cursor.rowcount


def _stage_visit_start(deal: Deal, stage: PipelineStage) -> None:
    StageVisit.objects.create(
        deal=deal, stage_id=stage.pk, stage_name=stage.name, entered_at=deal.stage_entered_at
    )


def _stage_visit_end(deal: Deal, at: datetime) -> None:
    """End the deal's current stage visit at `at` (inside the caller's transaction)."""
    StageVisit.objects.filter(deal=deal, left_at__isnull=True).update(left_at=at)


@transaction.atomic
def deal_update(
    *,
    actor: User,
    deal: Deal,
    title: str,
    value_cents: int,
    contact: Contact | None,
    expected_close_date: date | None,
    owner: User | None = None,
) -> Deal:
    """Edit an open deal's title, value, contact and expected close date and, when given, its
    owner (a member of the pipeline's team). A closed deal refuses every change: its value
    is booked revenue and its owner holds its wellness score."""
    require_single_line(title=title)
    if expected_close_date is not None:
        validate_supported_date(expected_close_date)
    deal = deal_lock_open(actor=actor, deal=deal)
    if contact is not None:
        require_visible(Contact.objects, actor, contact, "contact")
        if contact.team_id != deal.pipeline.team_id:
            raise ValidationError(gettext("The contact belongs to another team than the pipeline."))
    if owner is not None:
        _require_owner_member(owner, deal.pipeline.team_id, "pipeline's")
        if owner.pk != deal.owner_id:
            owner_changes_record(
                actor=actor,
                record_type=OwnedRecord.DEAL,
                records=[(deal, deal.pipeline.team_id, deal.owner_id)],
                owner=owner,
            )
        deal.owner = owner
    if expected_close_date != deal.expected_close_date:
        CloseDateChange.objects.create(
            deal=deal,
            from_date=deal.expected_close_date,
            to_date=expected_close_date,
            changed_by=actor,
        )
    deal.title = title.strip()
    deal.value_cents = value_cents
    deal.contact = contact
    deal.expected_close_date = expected_close_date
    deal.full_clean(exclude=["pipeline", "stage", "contact", "owner"])
    deal.save()
    stage_expected_values_refresh(pipeline_id=deal.pipeline_id)
    return deal


@transaction.atomic
def deal_move(*, actor: User, deal: Deal, stage: PipelineStage) -> Deal:
    """Move an open deal to another open stage of its pipeline (row-locked), ending its stage
    visit and starting the next. A deal whose forecast category nobody chose takes the new
    stage's."""
    deal = deal_lock_open(actor=actor, deal=deal)
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError(gettext("The stage belongs to another pipeline."))
    if stage.is_closing:
        raise ValidationError(gettext("Use “Close as won” or “Close as lost” to close a deal."))
    if stage.is_archived:
        raise ValidationError(gettext("This stage is archived; choose an open stage."))
    if stage.pk != deal.stage_id:
        from_stage = deal.stage
        deal.stage = stage
        deal.stage_entered_at = timezone.now()
        if not deal.forecast_category_chosen:
            deal.forecast_category = stage_forecast_category(stage)
        deal.save(update_fields=["stage", "stage_entered_at", "forecast_category", "updated_at"])
        _stage_visit_end(deal, deal.stage_entered_at)
        _stage_visit_start(deal, stage)
        stage_change_record(
            deal=deal,
            kind=StageChangeKind.MOVED,
            from_stage=from_stage,
            to_stage=stage,
            at=deal.stage_entered_at,
            by=actor,
        )
    stage_expected_values_refresh(pipeline_id=deal.pipeline_id)
    return deal


def may_set_forecast_category(actor: User, deal: Deal) -> bool:
    """The deal's owner sets its forecast category; a manager of its team may change it."""
    return deal.owner_id == actor.pk or manages_team(actor, deal.pipeline.team_id)


@transaction.atomic
def deal_forecast_category_set(*, actor: User, deal: Deal, category: str) -> Deal:
    """Set an open deal's forecast category (row-locked): its owner, or a manager of its
    team. Every change is recorded (`ForecastCategoryChange`, `by_manager` when the actor is
    not the owner), and from then on moving the deal keeps the chosen category."""
    if category not in ForecastCategory.values:
        raise ValidationError(gettext("Choose pipeline, best case, commit or omitted."))
    deal = deal_lock_open(actor=actor, deal=deal)
    if not may_set_forecast_category(actor, deal):
        raise ValidationError(
            gettext("Only the deal's owner or a manager of its team may set its forecast category.")
        )
    if category != deal.forecast_category:
        ForecastCategoryChange.objects.create(
            deal=deal,
            changed_by=actor,
            from_category=deal.forecast_category,
            to_category=category,
            by_manager=deal.owner_id != actor.pk,
        )
    deal.forecast_category = category
    deal.forecast_category_chosen = True
    deal.save(update_fields=["forecast_category", "forecast_category_chosen", "updated_at"])
    return deal


def deal_lock_open(*, actor: User, deal: Deal) -> Deal:
    """The deal, re-read under a `FOR NO KEY UPDATE` row lock, if the actor may see it and it is
    still open; `ValidationError` otherwise. Runs inside the caller's transaction."""
    deal = Deal.objects.select_for_update(no_key=True).get(pk=deal.pk)
    require_visible(Deal.objects, actor, deal, "deal")
    if not deal.is_open:
        raise ValidationError(
            gettext("This deal is already closed as won.")
            if deal.status == DealStatus.WON
            else gettext("This deal is already closed as lost.")
        )
    return deal


def deal_mark_closed(
    *,
    deal: Deal,
    won: bool,
    at: datetime,
    wellness_score: int | None = None,
    actor: User | None = None,
    lost_reason: LostReason | None = None,
    lost_comment: str = "",
) -> Deal:
    """The CRM's part of closing a deal, inside the caller's transaction (the deal row locked by
    `deal_lock_open`): status, `closed_at`, the pipeline's won/lost stage when there is one, the
    lost reason (required, one of the team's current reasons) and comment of a lost deal, the
    owner's wellness score when the caller passes one (the caller checks consent; the score is
    recorded as the owner's, so withdrawing clears it even after a reassignment), the end of
    its stage visit, the stage change, and the stages' expected values."""
    if not won:
        _validate_lost_reason(deal, lost_reason)
        deal.lost_reason = lost_reason
        deal.lost_comment = lost_comment.strip()
    from_stage = deal.stage
    deal.status = DealStatus.WON if won else DealStatus.LOST
    deal.closed_at = at
    closing_stage = (
        PipelineStage.objects.filter(pipeline_id=deal.pipeline_id)
        .filter(is_won=won, is_lost=not won, archived_at__isnull=True)
        .order_by("position")
        .first()
    )
    if closing_stage is not None and closing_stage.pk != deal.stage_id:
        deal.stage = closing_stage
        deal.stage_entered_at = at
    if wellness_score is not None:
        deal.wellness_score_at_deal = wellness_score
        deal.wellness_score_user_id = deal.owner_id
    deal.save()
    _stage_visit_end(deal, at)
    stage_change_record(
        deal=deal,
        kind=StageChangeKind.WON if won else StageChangeKind.LOST,
        from_stage=from_stage,
        to_stage=deal.stage,
        at=at,
        by=actor,
    )
    stage_expected_values_refresh(pipeline_id=deal.pipeline_id)
    return deal


def _validate_lost_reason(deal: Deal, lost_reason: LostReason | None) -> None:
    if lost_reason is None:
        raise ValidationError(gettext("Choose why the deal was lost."))
    if lost_reason.team_id != deal.pipeline.team_id or lost_reason.archived:
        raise ValidationError(gettext("Choose one of the team's lost reasons."))


def deal_lock_closed(*, actor: User, deal: Deal) -> Deal:
    """The deal, re-read under a `FOR NO KEY UPDATE` row lock, if it is closed and the actor
    manages its team (who may reopen it); `ValidationError` otherwise. Runs inside the
    caller's transaction."""
    deal = Deal.objects.select_for_update(no_key=True).select_related("pipeline").get(pk=deal.pk)
    require_visible(Deal.objects, actor, deal, "deal")
    if not manages_team(actor, deal.pipeline.team_id):
        raise ValidationError(gettext("Only a manager of the deal's team may reopen it."))
    if deal.is_open:
        raise ValidationError(gettext("This deal is open already."))
    return deal


def deal_mark_reopened(*, actor: User, deal: Deal, at: datetime) -> Deal:
    """The CRM's part of reopening a closed deal, inside the caller's transaction (the deal
    locked by `deal_lock_closed`): status open, no closing time, reason or wellness score, and
    back in the stage it was closed from (when that stage is still open and not archived;
    otherwise the pipeline's first open stage), with a new stage visit and stage change."""
    closing = deal.stage_changes.filter(kind__in=[StageChangeKind.WON, StageChangeKind.LOST])
    from_stage_id = closing.order_by("-changed_at", "-id").values_list("from_stage_id", flat=True)
    open_stages = PipelineStage.objects.filter(
        pipeline_id=deal.pipeline_id, is_won=False, is_lost=False, archived_at__isnull=True
    ).order_by("position")
    stage = open_stages.filter(pk__in=from_stage_id[:1]).first() or open_stages.first()
    if stage is None:
        raise ValidationError(gettext("The pipeline has no open stage to reopen the deal in."))
    from_stage = deal.stage
    deal.status = DealStatus.OPEN
    deal.closed_at = None
    deal.lost_reason = None
    deal.lost_comment = ""
    deal.wellness_score_at_deal = None
    deal.wellness_score_user = None
    deal.stage = stage
    deal.stage_entered_at = at
    if not deal.forecast_category_chosen:
        deal.forecast_category = stage_forecast_category(stage)
    deal.save()
    _stage_visit_start(deal, stage)
    stage_change_record(
        deal=deal,
        kind=StageChangeKind.REOPENED,
        from_stage=from_stage,
        to_stage=stage,
        at=at,
        by=actor,
    )
    stage_expected_values_refresh(pipeline_id=deal.pipeline_id)
    return deal


def lost_reasons_defaults_create(*, team: Team) -> None:
    """Give a team the default lost reasons (inside the caller's transaction; a reason the team
    has already is left as it is)."""
    LostReason.objects.bulk_create(
        [
            LostReason(team=team, name=name, position=position)
            for position, name in enumerate(DEFAULT_LOST_REASONS)
        ],
        ignore_conflicts=True,
    )


def deal_wellness_scores_clear(*, user: User) -> int:
    """Remove every wellness score recorded as the user's (their consent withdrawal), whoever
    owns the deal now. Runs inside the caller's transaction."""
    return Deal.objects.filter(wellness_score_user=user).update(
        wellness_score_at_deal=None, wellness_score_user=None
    )


def contact_timelines_touch(*, contacts: QuerySet[Contact]) -> int:
    """Give these contacts' timelines a new version in the caller's transaction: once the change
    that called it commits, no process serves their first page from its cache
    (crm/timeline.py). Call it after writing, never before: a page read in between must not be
    cached under the new version."""
    return contacts.update(timeline_version=uuid.uuid4())


EXPORT_FORMATS = ("csv", "xlsx")


def records_export(
    *, actor: User | None, kind: str, records: QuerySet, file_format: str, filters: dict
) -> Iterator[bytes]:
    """The records (contacts, organizations or deals, already filtered and checked with
    `visible_to`) as a CSV or XLSX file in the columns an import reads, formula cells
    neutralised, with the export recorded in the audit log now (its filters and row count).
    The file comes in pieces, made while they are read: stream them."""
    if file_format not in EXPORT_FORMATS:
        raise ValidationError(
            gettext("Unknown export format %(format)s: use csv or xlsx.")
            % {"format": repr(file_format)}
        )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORTED,
        detail={
            "records": kind,
            "format": file_format,
            "filters": filters,
            "rows": records.count(),
        },
    )
    header, rows = export_header(kind), export_rows(kind, records)
    if file_format == "csv":
        return csv_stream(_with_header(header, rows))
    return xlsx_stream([(kind.capitalize(), header, rows)])


def _with_header(header: list[str], rows: Iterator[list]) -> Iterator[list]:
    yield header
    yield from rows


def import_mapping_remember(*, team: Team, kind: str, headers: list[str], mapping: list[str]):
    """Keep the mapping a team chose for files with these headers, to offer it next time."""
    return ImportMapping.objects.update_or_create(
        team=team, kind=kind, headers_key=headers_key(headers), defaults={"mapping": mapping}
    )[0]


def contact_erase_records(*, contact: Contact) -> list:
    """The CRM's part of erasing a person (GDPR Art. 17), inside the caller's transaction: the
    deals linked to the contact keep their amounts, stages and dates (booked revenue and
    forecasts need them) but lose their title and the link to the person; the contact and
    its timeline are deleted. Returns the ids of those deals."""
    deals = Deal.objects.filter(contact=contact)
    deal_ids = list(deals.values_list("pk", flat=True))
    deals.update(title="Deal (erased contact)", contact=None)
    counted = activity_keys(
        interactions=Interaction.objects.filter(contact=contact),
        tasks=Task.objects.filter(contact=contact),
    )
    contact.delete()
    deal_activity_refresh(Deal.objects.filter(pk__in=deal_ids))
    activity_totals_refresh(counted)
    return deal_ids
