"""Finance write services. Each public function is atomic: it validates, then writes
everything or nothing, and raises `ValidationError` with a message for the person.

`forecast_generate` is the CRM + Finance flow: it reads the deals, converts, buckets,
computes the intervals, saves the forecast with its `forecast_deals` and buckets, and imports
it into the finance module, in one transaction and a constant number of queries. On
PostgreSQL the deals never leave the database (`finance.database_forecast`); elsewhere they
are read, evaluated in Python (`finance.forecasting`) and inserted in bulk.
"""

import csv
import datetime
import io
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from coop.audit import audit_record
from coop.bulk import copy_insert
from coop.cache import aggregates_changed
from coop.models import AuditAction, Team, User
from coop.money import CURRENCY_CHOICES, to_major_units, to_minor_units
from coop.validators import require_single_line
from coop.visibility import is_member, manager_team_ids, manages_team
from crm.models import Deal, DealStatus, Pipeline, PipelineStage
from finance.database_forecast import forecast_deals_insert
from finance.exports import forecast_csv, forecast_xlsx
from finance.forecasting import Line, Outcome, WhatIf, apply_what_if, evaluate
from finance.intervals import WorkBudget
from finance.learned import forecast_probabilities, stage_band_records
from finance.lines import deal_lines, forecast_lines
from finance.models import (
    ExchangeRate,
    ForecastBucket,
    ForecastDeal,
    ForecastSubmission,
    ImportedForecast,
    LearnedRecord,
    ProbabilityChoice,
    RevenueEntry,
    RevenueForecast,
    RevenueSource,
    RevenueTarget,
    SubmissionLevel,
)
from finance.periods import (
    PeriodType,
    period_label,
    period_start,
    validate_finance_day,
    validate_period_count,
)
from finance.rates import RATE_PLACES
from finance.receivers import FINANCE_AGGREGATES
from finance.scopes import finance_team_ids, scope_allowed
from finance.submissions import commit_default, team_rollup

CURRENCIES = {code for code, _ in CURRENCY_CHOICES}
# The numbers the exact and Monte Carlo interval methods may compute for one what-if (about
# half a second at most): it is recomputed as a person types. See `finance.intervals`.
WHAT_IF_WORK = 50_000_000


def _validate_request(
    *, period_type: str, start: datetime.date, end: datetime.date, currency: str
) -> None:
    if period_type not in PeriodType.values:
        raise ValidationError(
            gettext("Unknown period type %(period_type)r.") % {"period_type": period_type}
        )
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Unknown currency %(currency)r.") % {"currency": currency})
    validate_finance_day(start)
    validate_finance_day(end)
    if end < start:
        raise ValidationError(gettext("The end date must be on or after the start date."))
    validate_period_count(start, end, period_type)


def _default_name(period_type: str, start: datetime.date, end: datetime.date, scope: str) -> str:
    first, last = period_label(start, period_type), period_label(end, period_type)
    # Made in the language of the person generating it, like a name they would type.
    span = (
        first
        if first == last
        else gettext("%(first)s to %(last)s") % {"first": first, "last": last}
    )
    return f"{scope}: {span}"


def forecast_deal_row(
    forecast: RevenueForecast, line: Line, period_start: datetime.date
) -> ForecastDeal:
    """The `forecast_deals` row of one counted deal (not saved)."""
    return ForecastDeal(
        forecast=forecast,
        deal_id=line.deal_id,
        expected_value_cents=line.expected_cents,
        probability=line.probability,
        realized=line.realized,
        on_date=line.on_date,
        period_start=period_start,
        deal_value_cents=line.deal_value_cents,
        deal_currency=line.deal_currency,
        rate=line.rate,
        value_cents=line.value_cents,
        stage_id=line.stage_id,
        stage_name=line.stage_name,
        title=line.title,
        forecast_category=line.forecast_category,
    )


def _save_outcome(
    forecast: RevenueForecast, outcome: Outcome, *, deals_saved: bool = False
) -> RevenueForecast:
    """Insert the forecast, its buckets and its deals (bulk; the deals by COPY on PostgreSQL),
    import it and audit it: five inserts. `deals_saved`: the forecast row and its deals are
    in already (`forecast_deals_insert`); the forecast's figures are updated instead."""
    forecast.total_expected_cents = outcome.total_expected_cents
    forecast.realized_cents = outcome.realized_cents
    forecast.confidence_interval = outcome.confidence_interval_json()
    if deals_saved:
        forecast.save(
            update_fields=["total_expected_cents", "realized_cents", "confidence_interval"]
        )
    else:
        forecast.save(force_insert=True)
    ForecastBucket.objects.bulk_create(
        ForecastBucket(
            forecast=forecast,
            period_start=bucket.start,
            period_end=bucket.end,
            expected_cents=bucket.expected_cents,
            realized_cents=bucket.realized_cents,
            deal_count=bucket.deal_count,
            p10_cents=bucket.interval["p10"],
            p50_cents=bucket.interval["p50"],
            p90_cents=bucket.interval["p90"],
            low95_cents=bucket.interval["low95"],
            high95_cents=bucket.interval["high95"],
        )
        for bucket in outcome.buckets
    )
    if not deals_saved:
        copy_insert(
            ForecastDeal,
            (
                forecast_deal_row(forecast, line, bucket_start)
                for line, bucket_start in outcome.lines
            ),
        )
    revenue_forecast_import(forecast=forecast, outcome=outcome)
    audit_record(
        actor=forecast.user,
        action=AuditAction.FORECAST_GENERATED,
        obj=forecast,
        detail={
            "scope": "scenario" if forecast.baseline_id else "forecast",
            "period_type": forecast.period_type,
            "deals": outcome.deal_count,
        },
    )
    return forecast


def revenue_forecast_import(*, forecast: RevenueForecast, outcome: Outcome) -> ImportedForecast:
    """Take the finance module's own copy of a forecast (one insert). Called inside the
    transaction that saves the forecast, so both exist or neither does."""
    return ImportedForecast.objects.create(
        forecast=forecast,
        team_id=forecast.team_id,
        scope_user_id=forecast.scope_user_id,
        period_type=forecast.period_type,
        currency=forecast.currency,
        start_date=forecast.start_date,
        end_date=forecast.end_date,
        total_expected_cents=forecast.total_expected_cents,
        periods=[
            {
                "start": bucket.start.isoformat(),
                "end": bucket.end.isoformat(),
                "expected_cents": bucket.expected_cents,
            }
            for bucket in outcome.buckets
        ],
    )


@transaction.atomic(durable=True)
def forecast_generate(
    *,
    actor: User | None,
    team: Team,
    scope_user: User | None,
    period_type: str,
    start: datetime.date,
    end: datetime.date,
    currency: str,
    name: str = "",
    time_zone: str | None = None,
) -> RevenueForecast:
    """The CRM + Finance integration: forecast the revenue of a team (or of one member's
    deals) over [start, end] from the deal pipeline, in one outermost transaction: the
    forecast, its buckets and confidence interval, its `forecast_deals` rows and the finance
    module's imported copy exist together or not at all. See `forecast_record` for what is
    computed. Locks nothing: it reads the deals and rates as of its snapshot and only inserts.
    """
    return forecast_record(
        actor=actor,
        team=team,
        scope_user=scope_user,
        period_type=period_type,
        start=start,
        end=end,
        currency=currency,
        name=name,
        time_zone=time_zone,
    )


def forecast_record(
    *,
    actor: User | None,
    team: Team,
    scope_user: User | None,
    period_type: str,
    start: datetime.date,
    end: datetime.date,
    currency: str,
    name: str = "",
    time_zone: str | None = None,
) -> RevenueForecast:
    """Forecast the revenue of a team (or of one member's deals) over [start, end], inside the
    caller's transaction (`forecast_generate` gives it one of its own).

    Open deals expected to close in the range count with their stage probability (the learned
    one in a pipeline whose managers chose it, recorded in `probability_sources`), deals won
    in it as realized (100 %), lost deals not at all; values are converted into `currency` at
    the rate in effect on each deal's day. Saves the forecast, its buckets, its
    `forecast_deals` and the finance module's imported copy in this one transaction, in a
    constant number of queries. A missing rate (or any error) writes nothing. `actor` None
    is the cron command (no permission check); `time_zone` (default: the actor's, else UTC)
    says which days won deals closed on.
    """
    _validate_request(period_type=period_type, start=start, end=end, currency=currency)
    require_single_line(name=name)
    if actor is not None and not scope_allowed(actor, team, scope_user):
        raise ValidationError(gettext("You may not forecast that team or person."))
    zone_name = time_zone or (actor.time_zone if actor is not None else "UTC")
    zone = zoneinfo.ZoneInfo(zone_name)
    scope_name = str(scope_user) if scope_user is not None else str(team)
    probabilities = forecast_probabilities(team.pk, timezone.now())
    forecast = RevenueForecast(
        name=(name.strip() or _default_name(period_type, start, end, scope_name))[:255],
        user=actor,
        team=team,
        scope_user=scope_user,
        forecast_date=timezone.localdate(timezone=zone),
        period_type=period_type,
        start_date=start,
        end_date=end,
        currency=currency,
        time_zone=zone_name,
        probability_sources=probabilities.as_json(),
    )
    if connection.vendor == "postgresql":
        forecast.total_expected_cents, forecast.confidence_interval = 0, {}
        forecast.save(force_insert=True)
        outcome = forecast_deals_insert(
            forecast, team=team, scope_user=scope_user, zone=zone, probabilities=probabilities
        )
        return _save_outcome(forecast, outcome, deals_saved=True)
    lines = deal_lines(
        team=team,
        scope_user=scope_user,
        start=start,
        end=end,
        currency=currency,
        zone=zone,
        probabilities=probabilities,
    )
    outcome = evaluate(lines, period_type=period_type, start=start, end=end)
    return _save_outcome(forecast, outcome)


@transaction.atomic(durable=True)
def forecast_generate_scheduled(
    *, team: Team, period_type: str, start: datetime.date, end: datetime.date, currency: str
) -> tuple[RevenueForecast, bool]:
    """The cron/worker flavour of `forecast_generate`: a whole-team forecast made by no one,
    at most once a day for the same period type, range and currency. Returns the forecast
    and whether it was made now (False: today's existing one).

    Locks the team row first, so two runs at the same moment (two cron hosts, a task retried
    while the first attempt still runs) make one forecast, not two.
    """
    Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
    existing = RevenueForecast.objects.filter(
        team=team,
        scope_user=None,
        baseline=None,
        user=None,
        period_type=period_type,
        start_date=start,
        end_date=end,
        currency=currency,
        forecast_date=timezone.localdate(timezone=datetime.UTC),
    ).first()
    if existing is not None:
        return existing, False
    forecast = forecast_record(
        actor=None,
        team=team,
        scope_user=None,
        period_type=period_type,
        start=start,
        end=end,
        currency=currency,
    )
    return forecast, True


def what_if_outcome(forecast: RevenueForecast, what_if: WhatIf) -> Outcome:
    """The forecast recomputed with the what-if levers; reads, never writes. Its intervals
    share a budget of `WHAT_IF_WORK` numbers: past it, an interval is the Cornish-Fisher
    approximation (named in its parameters), so a what-if on a forecast of any size costs
    time linear in its deals, never a Monte Carlo simulation of each large period."""
    lines = apply_what_if(
        forecast_lines(forecast),
        what_if,
        period_type=forecast.period_type,
        start=forecast.start_date,
        report_currency=forecast.currency,
    )
    return evaluate(
        lines,
        period_type=forecast.period_type,
        start=forecast.start_date,
        end=forecast.end_date,
        budget=WorkBudget(WHAT_IF_WORK),
    )


@transaction.atomic
def scenario_save(
    *, actor: User, baseline: RevenueForecast, what_if: WhatIf, name: str
) -> RevenueForecast:
    """Store a what-if result as a named forecast linked to its baseline (with its deals,
    buckets and imported copy), in one transaction. The actor must see the baseline."""
    if not RevenueForecast.objects.visible_to(actor).filter(pk=baseline.pk).exists():
        raise ValidationError(gettext("This forecast does not exist or is not visible to you."))
    name = name.strip()
    if not name:
        raise ValidationError(gettext("Give the scenario a name."))
    require_single_line(name=name)
    outcome = what_if_outcome(baseline, what_if)
    scenario = RevenueForecast(
        name=name[:255],
        user=actor,
        team_id=baseline.team_id,
        scope_user_id=baseline.scope_user_id,
        forecast_date=timezone.localdate(timezone=actor.zone),
        period_type=baseline.period_type,
        start_date=baseline.start_date,
        end_date=baseline.end_date,
        currency=baseline.currency,
        time_zone=baseline.time_zone,
        baseline=baseline,
        scenario=what_if.as_json(),
    )
    return _save_outcome(scenario, outcome)


def revenue_book_won_deal(*, deal: Deal) -> RevenueEntry | None:
    """Book a won deal's value as actual revenue, on its closing day in the owner's time zone.

    Called by `crm.services.deal_close` inside its transaction (so the closure and the entry
    exist together or not at all); a deal that is not won books nothing.
    """
    if deal.status != DealStatus.WON:
        return None
    entry = won_deal_revenue_entry(deal)
    entry.save(force_insert=True)
    return entry


def revenue_book_imported_won_deals(*, deals: list[Deal]) -> None:
    """Book the revenue of deals an import created as won, as `revenue_book_won_deal` does
    for a closed one (the same entry), in the import's transaction; connected to
    `crm.signals.won_deals_imported`."""
    RevenueEntry.objects.bulk_create([won_deal_revenue_entry(deal) for deal in deals])
    aggregates_changed(FINANCE_AGGREGATES)


def revenue_unbook_imported_deals(*, deal_ids: list) -> None:
    """Remove the revenue booked for deals an import created, before its undo deletes them
    (so no entry outlives its deal as if it had been won); connected to
    `crm.signals.imported_deals_removing`, in the undo's transaction."""
    RevenueEntry.objects.filter(source=RevenueSource.DEAL, deal_id__in=deal_ids).delete()
    aggregates_changed(FINANCE_AGGREGATES)


def revenue_unbook_deal(*, deal: Deal) -> int:
    """Remove the revenue a won deal booked (its reopening), inside the caller's transaction;
    returns the entries removed (0 for a deal that booked none)."""
    deleted, _ = RevenueEntry.objects.filter(deal=deal, source=RevenueSource.DEAL).delete()
    return deleted


def won_deal_revenue_entry(deal: Deal) -> RevenueEntry:
    """The (unsaved) revenue entry of a won deal; `revenue_book_won_deal` saves it, the demo
    data inserts many in bulk."""
    zone = deal.owner.zone if deal.owner_id else datetime.UTC
    return RevenueEntry(
        team_id=deal.pipeline.team_id,
        booked_on=deal.closed_at.astimezone(zone).date(),
        amount_cents=deal.value_cents,
        currency=deal.currency,
        source=RevenueSource.DEAL,
        deal=deal,
        owner_id=deal.owner_id,
        description=f"Won deal: {deal.title}"[:255],
    )


@transaction.atomic
def revenue_entry_create(
    *,
    actor: User,
    team: Team,
    booked_on: datetime.date,
    amount_cents: int,
    currency: str,
    description: str,
) -> RevenueEntry:
    """Finance staff record revenue that did not come from a deal."""
    if team.pk not in finance_team_ids(actor):
        raise ValidationError(gettext("Only the team's finance staff may enter revenue."))
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Unknown currency %(currency)r.") % {"currency": currency})
    if amount_cents <= 0:
        raise ValidationError(gettext("The amount must be more than zero."))
    validate_finance_day(booked_on)
    description = description.strip()
    if not description:
        raise ValidationError(gettext("Say what the revenue is for."))
    require_single_line(description=description)
    return RevenueEntry.objects.create(
        team=team,
        booked_on=booked_on,
        amount_cents=amount_cents,
        currency=currency,
        source=RevenueSource.MANUAL,
        description=description[:255],
        created_by=actor,
    )


def _target_person(team: Team, person: User | None) -> None:
    if person is not None and not is_member(person, team.pk):
        raise ValidationError(
            gettext("%(person)s is not a member of %(team)s.") % {"person": person, "team": team}
        )


def _validated_target(
    *,
    team: Team,
    person: User | None,
    period_type: str,
    first_day: datetime.date,
    amount_cents: int,
    currency: str,
) -> RevenueTarget:
    if period_type not in PeriodType.values:
        raise ValidationError(
            gettext("Unknown period type %(period_type)r.") % {"period_type": period_type}
        )
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Unknown currency %(currency)r.") % {"currency": currency})
    if amount_cents <= 0:
        raise ValidationError(gettext("The target must be more than zero."))
    validate_finance_day(first_day)
    expected = period_start(first_day, period_type)
    if expected != first_day:
        raise ValidationError(
            gettext("A %(period_type)s period starts on %(expected)s, not %(given)s.")
            % {
                "period_type": str(PeriodType(period_type).label).lower(),
                "expected": expected.isoformat(),
                "given": first_day.isoformat(),
            }
        )
    _target_person(team, person)
    return RevenueTarget(
        team=team,
        user=person,
        period_type=period_type,
        period_start=first_day,
        amount_cents=amount_cents,
        currency=currency,
    )


def _save_targets(targets: list[RevenueTarget]) -> None:
    """Insert or replace each target (one per team, person or none, period type and start)."""
    for target in targets:
        RevenueTarget.objects.update_or_create(
            team=target.team,
            user=target.user,
            period_type=target.period_type,
            period_start=target.period_start,
            defaults={"amount_cents": target.amount_cents, "currency": target.currency},
        )


@transaction.atomic
def revenue_target_set(
    *,
    actor: User,
    team: Team,
    person: User | None,
    period_type: str,
    first_day: datetime.date,
    amount_cents: int,
    currency: str,
) -> RevenueTarget:
    """A manager of the team sets (or replaces) the team's target for a period, or a
    member's when `person` is given."""
    if not manages_team(actor, team.pk):
        raise ValidationError(gettext("Only the team's managers set its targets."))
    target = _validated_target(
        team=team,
        person=person,
        period_type=period_type,
        first_day=first_day,
        amount_cents=amount_cents,
        currency=currency,
    )
    _save_targets([target])
    return RevenueTarget.objects.get(
        team=team, user=person, period_type=period_type, period_start=first_day
    )


@transaction.atomic
def forecast_submit(
    *,
    actor: User,
    team: Team,
    level: str,
    period_type: str,
    first_day: datetime.date,
    amount_cents: int,
    currency: str,
    comment: str = "",
) -> ForecastSubmission:
    """Record a forecast call for a period: a member's own number (`level` rep), or a
    manager's number for the team (`level` team), which needs a comment when it differs from
    the sum of the reps' latest numbers. Every call is a new row: the history is kept."""
    if level not in SubmissionLevel.values:
        raise ValidationError(gettext("Unknown submission level %(level)r.") % {"level": level})
    if period_type not in PeriodType.values:
        raise ValidationError(
            gettext("Unknown period type %(period_type)r.") % {"period_type": period_type}
        )
    if currency not in CURRENCIES:
        raise ValidationError(gettext("Unknown currency %(currency)r.") % {"currency": currency})
    if amount_cents < 0:
        raise ValidationError(gettext("The number cannot be negative."))
    validate_finance_day(first_day)
    if period_start(first_day, period_type) != first_day:
        raise ValidationError(gettext("Submit for a period by its first day."))
    comment = comment.strip()
    require_single_line(comment=comment)
    commit = None
    if level == SubmissionLevel.REP:
        if not is_member(actor, team.pk):
            raise ValidationError(gettext("You submit your own number in your own team only."))
        commit = commit_default(
            team=team, person=actor, period_type=period_type, first=first_day, currency=currency
        )
    else:
        if not manages_team(actor, team.pk):
            raise ValidationError(gettext("Only the team's managers submit its number."))
        rolled_up = [
            row.submission
            for row in team_rollup(team=team, period_type=period_type, first=first_day)
            if row.submission is not None
        ]
        if any(s.currency != currency for s in rolled_up):
            raise ValidationError(gettext("Submit in the currency the reps submitted in."))
        commit = sum(s.amount_cents for s in rolled_up)
        if amount_cents != commit and not comment:
            raise ValidationError(gettext("Say why you adjust the reps' total in a comment."))
    return ForecastSubmission.objects.create(
        team=team,
        submitted_by=actor,
        level=level,
        period_type=period_type,
        period_start=first_day,
        amount_cents=amount_cents,
        currency=currency,
        commit_cents=commit,
        comment=comment[:500],
    )


@transaction.atomic
def probability_choice_set(*, actor: User, pipeline: Pipeline, use_learned: bool) -> None:
    """A manager of the pipeline's team chooses which stage probabilities its forecasts use
    from now on: the learned ones or the configured ones. Forecasts record what they used."""
    if not manages_team(actor, pipeline.team_id):
        raise ValidationError(
            gettext("Only the team's managers choose its forecast probabilities.")
        )
    ProbabilityChoice.objects.update_or_create(
        pipeline=pipeline,
        defaults={"use_learned": use_learned, "chosen_by": actor, "chosen_at": timezone.now()},
    )


@transaction.atomic(durable=True)
def learned_probabilities_refit(*, team: Team) -> int:
    """Recount the record behind the learned probabilities of every pipeline of the team
    from its closed deals' stage visits (`finance.learned`) and replace the stored one, in
    one transaction: forecasts and deal pages read either the old record or the new one,
    never a mix. Returns the records stored.

    Locks the team's pipeline rows (`FOR NO KEY UPDATE`, by id) first, so two refits of a
    team (the nightly task, a manager's button, a retried task) never run at once: the
    second waits and recounts. Deal writes are not blocked (they only reference the rows)."""
    pipeline_ids = list(
        Pipeline.objects.select_for_update(no_key=True)
        .filter(team=team)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    fitted_at = timezone.now()
    owner = dict(
        PipelineStage.objects.filter(pipeline_id__in=pipeline_ids).values_list("pk", "pipeline_id")
    )
    records = [
        LearnedRecord(
            pipeline_id=owner[stage_id],
            stage_id=stage_id,
            band_days=band,
            wins=wins,
            closed=closed,
            fitted_at=fitted_at,
        )
        for (stage_id, band), (wins, closed) in stage_band_records(pipeline_ids).items()
        # A deleted stage's history counts for nothing: no open deal can be in it.
        if stage_id in owner
    ]
    LearnedRecord.objects.filter(pipeline_id__in=pipeline_ids).delete()
    LearnedRecord.objects.bulk_create(records, batch_size=1000)
    return len(records)


TARGET_COLUMNS = ("team", "person", "period_type", "period_start", "amount", "currency")


def _parse_target_row(row: dict, teams: dict[str, Team], people: dict[str, User]):
    team = teams.get((row["team"] or "").strip())
    if team is None:
        raise ValidationError(gettext("no team %(team)r that you manage") % {"team": row["team"]})
    username = (row["person"] or "").strip()
    person = None
    if username:
        person = people.get(username)
        if person is None:
            raise ValidationError(gettext("no user %(username)r") % {"username": username})
    try:
        first_day = datetime.date.fromisoformat((row["period_start"] or "").strip())
    except ValueError:
        raise ValidationError(
            gettext("period_start %(date)r is not a YYYY-MM-DD date")
            % {"date": row["period_start"]}
        ) from None
    currency = (row["currency"] or "").strip().upper()
    try:
        amount = Decimal((row["amount"] or "").strip())
    except InvalidOperation:
        raise ValidationError(
            gettext("amount %(amount)r is not a number") % {"amount": row["amount"]}
        ) from None
    if not amount.is_finite() or not 0 < amount < Decimal("1e13"):
        raise ValidationError(
            gettext("amount %(amount)r must be a positive number") % {"amount": row["amount"]}
        )
    if currency not in CURRENCIES:
        raise ValidationError(gettext("unknown currency %(currency)r") % {"currency": currency})
    amount_cents = to_minor_units(amount, currency)
    if to_major_units(amount_cents, currency) != amount:
        raise ValidationError(
            gettext("amount %(amount)r is not a whole number of %(currency)s's smallest unit")
            % {"amount": row["amount"], "currency": currency}
        )
    return _validated_target(
        team=team,
        person=person,
        period_type=(row["period_type"] or "").strip().lower(),
        first_day=first_day,
        amount_cents=amount_cents,
        currency=currency,
    )


@transaction.atomic
def revenue_targets_import(*, actor: User, text: str) -> int:
    """Import targets from CSV text with the header
    `team,person,period_type,period_start,amount,currency` (team by name, person by username
    or empty for the team's own target, amount in major units). The actor must manage every
    team named. All or nothing: the first bad row is an error naming its line. A target
    already set for the same team, person and period is replaced. Returns the rows imported."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames
    except csv.Error:
        header = None
    if header is None or [name.strip().lower() for name in header] != list(TARGET_COLUMNS):
        raise ValidationError(
            gettext("Line 1: the header must be exactly: %(header)s")
            % {"header": ",".join(TARGET_COLUMNS)}
        )
    reader.fieldnames = list(TARGET_COLUMNS)
    managed = Team.objects.filter(pk__in=manager_team_ids(actor))
    teams = {team.name: team for team in managed}
    people = {
        user.username: user
        for user in User.objects.filter(memberships__team__in=managed).distinct()
    }
    targets, seen = [], {}
    for row in _csv_rows(reader):
        line = reader.line_num
        if None in row or None in row.values():
            raise ValidationError(gettext("Line %(line)s: expected six columns.") % {"line": line})
        try:
            target = _parse_target_row(row, teams, people)
        except ValidationError as error:
            raise ValidationError(
                gettext("Line %(line)s: %(problem)s.")
                % {"line": line, "problem": error.messages[0]}
            ) from None
        key = (target.team_id, target.user_id, target.period_type, target.period_start)
        if key in seen:
            raise ValidationError(
                gettext("Line %(line)s: the same target is already on line %(first)s.")
                % {"line": line, "first": seen[key]}
            )
        seen[key] = line
        targets.append(target)
    if not targets:
        raise ValidationError(gettext("The file has no targets."))
    _save_targets(targets)
    return len(targets)


RATE_COLUMNS = ("date", "base", "quote", "rate")


def _parse_rate_row(row: dict) -> ExchangeRate:
    try:
        day = datetime.date.fromisoformat((row.get("date") or "").strip())
    except ValueError:
        raise ValidationError(
            gettext("date %(date)r is not a YYYY-MM-DD date") % {"date": row.get("date")}
        ) from None
    base = (row.get("base") or "").strip().upper()
    quote = (row.get("quote") or "").strip().upper()
    for code in (base, quote):
        if code not in CURRENCIES:
            raise ValidationError(gettext("unknown currency %(currency)r") % {"currency": code})
    if base == quote:
        raise ValidationError(gettext("base and quote are the same currency"))
    try:
        rate = Decimal((row.get("rate") or "").strip())
    except InvalidOperation:
        raise ValidationError(
            gettext("rate %(rate)r is not a number") % {"rate": row.get("rate")}
        ) from None
    if not rate.is_finite() or rate <= 0:
        raise ValidationError(
            gettext("rate %(rate)r must be a positive number") % {"rate": row.get("rate")}
        )
    # The size first: quantizing a huge exponent (1e999999) is itself an error.
    if rate >= Decimal("1e10") or rate != rate.quantize(RATE_PLACES):
        raise ValidationError(
            gettext("rate %(rate)r has too many digits") % {"rate": row.get("rate")}
        )
    return ExchangeRate(date=day, base=base, quote=quote, rate=rate)


def _csv_rows(reader: csv.DictReader):
    """The reader's rows; a line the csv module cannot parse (a field over its size limit,
    an unterminated quote) is a `ValidationError` naming it."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ValidationError(
                gettext("Line %(line)s: %(problem)s.") % {"line": reader.line_num, "problem": error}
            ) from None


@transaction.atomic
def exchange_rates_import(*, text: str) -> int:
    """Import rates from CSV text with the header `date,base,quote,rate` (one unit of base is
    `rate` units of quote on that date). All or nothing: the first bad row is an error naming
    its line. A rate already stored for the same date and pair is replaced. Returns the
    number of rows imported."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = reader.fieldnames
    except csv.Error:
        header = None
    if header is None or [name.strip().lower() for name in header] != list(RATE_COLUMNS):
        raise ValidationError(
            gettext("Line 1: the header must be exactly: %(header)s")
            % {"header": ",".join(RATE_COLUMNS)}
        )
    reader.fieldnames = list(RATE_COLUMNS)
    rates, seen = [], {}
    for row in _csv_rows(reader):
        line = reader.line_num
        if None in row:
            raise ValidationError(
                gettext("Line %(line)s: more than four columns.") % {"line": line}
            )
        if None in row.values():
            raise ValidationError(
                gettext("Line %(line)s: fewer than four columns.") % {"line": line}
            )
        try:
            rate = _parse_rate_row(row)
        except ValidationError as error:
            raise ValidationError(
                gettext("Line %(line)s: %(problem)s.")
                % {"line": line, "problem": error.messages[0]}
            ) from None
        key = (rate.date, rate.base, rate.quote)
        if key in seen:
            raise ValidationError(
                gettext("Line %(line)s: %(pair)s on %(date)s is already on line %(first)s.")
                % {
                    "line": line,
                    "pair": f"{rate.base}/{rate.quote}",
                    "date": rate.date,
                    "first": seen[key],
                }
            )
        seen[key] = line
        rates.append(rate)
    if not rates:
        raise ValidationError(gettext("The file has no rates."))
    ExchangeRate.objects.bulk_create(
        rates,
        update_conflicts=True,
        unique_fields=["date", "base", "quote"],
        update_fields=["rate"],
    )
    aggregates_changed(FINANCE_AGGREGATES)  # a bulk upsert sends no save signals
    return len(rates)


EXPORT_FORMATS = {"csv": forecast_csv, "xlsx": forecast_xlsx}


def forecast_export(
    *, actor: User | None, forecast: RevenueForecast, file_format: str
) -> Iterator[bytes]:
    """The forecast as a CSV or XLSX file (formula cells neutralised), with the export
    recorded in the audit log now. The file comes in pieces, made while they are read: stream
    them. `actor` None is an operator's `manage.py export_forecast`."""
    if file_format not in EXPORT_FORMATS:
        raise ValidationError(
            gettext("Unknown export format %(format)r: use csv or xlsx.") % {"format": file_format}
        )
    body = EXPORT_FORMATS[file_format](forecast)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORTED,
        obj=forecast,
        detail={"format": file_format, "via": "web" if actor is not None else "command"},
    )
    return body


def revenue_deals_anonymise(*, deal_ids: list) -> int:
    """Take a person's identity off the revenue booked for these deals and off the forecasts'
    copies of them (their right to erasure), keeping every amount the books need. Runs inside
    the caller's transaction; returns the number of revenue entries changed."""
    ForecastDeal.objects.filter(deal_id__in=deal_ids).update(title="Deal (erased contact)")
    return RevenueEntry.objects.filter(deal_id__in=deal_ids).update(
        description="Won deal (erased contact)"
    )
