"""One team's data of every kind, built through the services, for the reliability tests."""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone

from calendar_app.models import Event, Notification
from calendar_app.services import preference_get_or_create
from coop.models import Role, Team, User
from crm.meeting_scheduling import meeting_schedule
from crm.models import Contact, Deal, Interaction, Pipeline
from crm.next_steps import task_create
from crm.notes import note_create
from crm.services import contact_create, deal_create, interaction_log
from finance.models import RevenueForecast
from finance.services import forecast_generate
from health.services import checkin_save
from tests.coop.factories import MembershipFactory
from tests.crm.factories import PipelineFactory

MARK = "Zanzibar"  # a word no page shows unless it shows this world's data


@dataclass
class World:
    team: Team
    rep: User
    pipeline: Pipeline
    contact: Contact
    deal: Deal
    meeting: Interaction
    event: Event
    forecast: RevenueForecast
    notification: Notification


def member(team: Team, role: str, username: str) -> User:
    return MembershipFactory(team=team, role=role, user__username=username).user


def build_world(team: Team, rep: User) -> World:
    """A pipeline, contact, open deal, meeting (event + timeline entry), forecast, a
    notification, a check-in, and a task and a note on the deal, all of `team` and owned or
    organised by `rep`."""
    pipeline = PipelineFactory(team=team, name=f"{MARK} pipeline")
    contact = contact_create(
        actor=rep,
        team=team,
        organization_name=f"{MARK} Ltd",
        name=f"{MARK} Contact",
        email=f"{rep.username}@{MARK.lower()}.example",
        phone="",
        job_title="Buyer",
        notes="",
    )
    interaction_log(
        actor=rep,
        contact=contact,
        interaction_type="call",
        summary=f"{MARK} call",
        details="",
        timestamp=timezone.now(),
    )
    stage = pipeline.stages.order_by("position").first()
    deal = deal_create(
        actor=rep,
        pipeline=pipeline,
        stage=stage,
        title=f"{MARK} deal",
        contact=contact,
        owner=rep,
        value_cents=500_000,
        expected_close_date=timezone.localdate() + datetime.timedelta(days=10),
    )
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=2)
    meeting = meeting_schedule(
        organizer=rep,
        contact=contact,
        title=f"{MARK} meeting",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    today = timezone.localdate()
    forecast = forecast_generate(
        actor=rep,
        team=team,
        scope_user=rep,
        period_type="monthly",
        start=today.replace(day=1),
        end=today.replace(day=1) + datetime.timedelta(days=90),
        currency="EUR",
        name=f"{MARK} forecast",
    )
    notification = Notification.objects.create(
        user=rep, event=meeting.calendar_event, title=f"{MARK} notice"
    )
    preference_get_or_create(user=rep)
    checkin_save(user=rep, stress=91, sleep_hours=None, energy=None)
    task_create(actor=rep, record=deal, title=f"{MARK} next step", due_date=today)
    note_create(actor=rep, record=deal, body=f"{MARK} note")
    return World(
        team=team,
        rep=rep,
        pipeline=pipeline,
        contact=contact,
        deal=deal,
        meeting=meeting,
        event=meeting.calendar_event,
        forecast=forecast,
        notification=notification,
    )


PROJECT_APPS = ("coop", "crm", "calendar_app", "finance", "health")
# Rows every request may add by design: the audit trail, sessions, axes' access log.
# The audit trail, and the record of each import tried (kept when it is refused, to say who
# tried which file and why nothing was written).
BOOKKEEPING = {"coop.auditevent", "crm.importrun"}


def snapshot(*, bookkeeping: bool = False) -> dict[str, list[str]]:
    """Every row of every model of the project's apps, as text (the proof that nothing was
    written: no row added, removed or changed). The audit trail only with `bookkeeping`."""
    rows = {}
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.proxy or (model._meta.label_lower in BOOKKEEPING and not bookkeeping):
                continue
            values = model._default_manager.values()
            rows[model._meta.label_lower] = sorted(repr(sorted(row.items())) for row in values)
    return rows


ROLES = {"rep": Role.REP, "manager": Role.MANAGER, "finance": Role.FINANCE}
