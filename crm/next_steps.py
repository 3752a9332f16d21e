"""Tasks (next steps) on contacts, organizations and deals: create, complete, reopen, and
their reminders.

Who may do what: anyone who sees the record may add a task to it, for themselves; a manager
of the record's team (staff: every team) may assign it to another member of that team. Anyone
who sees a task may tick it done or undo it; who and when is kept.

Reminders go through the calendar's reminder run (`send_reminders`, the `send_due_reminders`
task): `crm/apps.py` registers `task_reminders_send_due`, which claims due tasks with
`select_for_update(skip_locked=True)` and marks them sent in the transaction that writes the
notifications, so two runs never send one twice. A task with a time is reminded the
assignee's reminder lead time before it (their calendar preference); a task without one at
REMINDER_HOUR on its day, in the assignee's time zone; a task written down after that time
is not reminded (the assignee is notified when someone else gave it to them).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from calendar_app.models import Notification
from calendar_app.selectors import reminder_minutes_for
from calendar_app.services import notifications_send
from coop.dates import validate_supported_date
from coop.i18n import written_for
from coop.models import User
from coop.validators import require_single_line
from coop.visibility import can_see_team, is_member, manages_team
from crm.activity import deal_activity_refresh, deal_activity_touch
from crm.activity_totals import activity_key, activity_totals_refresh
from crm.models import Contact, Deal, Organization, Task, TaskPriority

type Record = Contact | Organization | Deal

REMINDER_HOUR = datetime.time(8, 0)
REMINDER_BATCH = 200


def record_team_id(record: Record):
    """The team a record belongs to (a deal's is its pipeline's)."""
    return record.pipeline.team_id if isinstance(record, Deal) else record.team_id


def record_url(record: Record) -> str:
    name = {Contact: "contact_detail", Organization: "organization_detail", Deal: "deal_detail"}
    return reverse(f"crm:{name[type(record)]}", kwargs={"pk": record.pk})


def record_link(record: Record) -> dict:
    """The keyword that links a task or note to `record` (`contact=…`, `organization=…`…)."""
    return {type(record).__name__.lower(): record}


def require_record_visible(actor: User, record: Record) -> None:
    if not type(record).objects.visible_to(actor).filter(pk=record.pk).exists():
        raise ValidationError(gettext("This record does not exist or is not visible to you."))


def _require_assignable(actor: User, team_id, assignee: User) -> None:
    if not assignee.is_active or not is_member(assignee, team_id):
        raise ValidationError(
            {"assignee": gettext("Assign the task to a member of the record's team.")}
        )
    if assignee.pk != actor.pk and not manages_team(actor, team_id):
        raise ValidationError(
            {"assignee": gettext("Only a manager of the team may assign a task to someone else.")}
        )


def _due(assignee: User, due_date: datetime.date, due_time: datetime.time | None):
    """(`due_at`, `remind_at`) of a task due on `due_date` (at `due_time`) for `assignee`."""
    zone = assignee.zone
    if due_time is None:
        remind_at = datetime.datetime.combine(due_date, REMINDER_HOUR, tzinfo=zone)
        return None, remind_at
    due_at = datetime.datetime.combine(due_date, due_time, tzinfo=zone)
    lead = datetime.timedelta(minutes=reminder_minutes_for(assignee))
    return due_at, due_at - lead


def _validated(title: str, due_date: datetime.date, priority: int) -> str:
    require_single_line(title=title)
    title = title.strip()
    if not title:
        raise ValidationError({"title": gettext("Say what is to be done.")})
    if len(title) > 200:
        raise ValidationError({"title": gettext("Keep the title to 200 characters.")})
    validate_supported_date(due_date)
    if priority not in TaskPriority.values:
        raise ValidationError({"priority": gettext("Choose low, normal or high priority.")})
    return title


@written_for(lambda task, actor: task.assignee)
def _notify_assigned(task: Task, actor: User) -> None:
    """Tell the assignee a task was given to them by someone else."""
    if task.assignee_id is None or task.assignee_id == actor.pk:
        return
    with translation.override(task.assignee.language or None):
        notification = Notification(
            user=task.assignee,
            title=gettext("New task from %(actor)s: %(title)s")
            % {"actor": actor, "title": task.title},
            body=gettext("Due %(date)s on %(record)s.")
            % {"date": date_format(task.due_date, "D d M Y"), "record": task.record},
            link=record_url(task.record),
        )
    notifications_send(notifications=[notification])


@transaction.atomic
def task_create(
    *,
    actor: User,
    record: Record,
    title: str,
    due_date: datetime.date,
    due_time: datetime.time | None = None,
    assignee: User | None = None,
    priority: int = TaskPriority.NORMAL,
) -> Task:
    """Add an open task to a record the actor sees, for the actor or, when they manage the
    record's team, for another member of it (who is notified). Its reminder is armed."""
    require_record_visible(actor, record)
    title = _validated(title, due_date, priority)
    team_id = record_team_id(record)
    assignee = assignee or actor
    _require_assignable(actor, team_id, assignee)
    due_at, remind_at = _due(assignee, due_date, due_time)
    now = timezone.now()
    task = Task.objects.create(
        team_id=team_id,
        title=title,
        due_date=due_date,
        due_at=due_at,
        priority=priority,
        assignee=assignee,
        created_by=actor,
        remind_at=remind_at,
        # Already past its reminder time: the person writing it down needs no reminder now.
        reminder_sent_at=now if remind_at <= now else None,
        **record_link(record),
    )
    _notify_assigned(task, actor)
    return task


def _locked_visible(actor: User, task: Task) -> Task:
    locked = Task.objects.select_for_update(no_key=True).filter(pk=task.pk).first()
    if locked is None or not can_see_team(actor, locked.team_id):
        raise ValidationError(gettext("This task does not exist or is not visible to you."))
    return locked


@transaction.atomic
def task_complete(*, actor: User, task: Task) -> Task:
    """Tick a visible task done, recording who and when; a task already done stays as it
    was (two tabs ticking it record the first). Locks the task row."""
    task = _locked_visible(actor, task)
    if task.completed_at is None:
        task.completed_at = timezone.now()
        task.completed_by = actor
        task.save(update_fields=["completed_at", "completed_by", "updated_at"])
        if task.deal_id:
            deal_activity_touch(Deal.objects.filter(pk=task.deal_id), task.completed_at)
        activity_totals_refresh(activity_key(task.team_id, actor.pk, task.completed_at))
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    """Make a done task open again (its reminder is not sent again if it was). Locks the
    task row."""
    task = _locked_visible(actor, task)
    if task.completed_at is not None:
        counted = activity_key(task.team_id, task.completed_by_id, task.completed_at)
        task.completed_at = None
        task.completed_by = None
        task.save(update_fields=["completed_at", "completed_by", "updated_at"])
        if task.deal_id:
            deal_activity_refresh(Deal.objects.filter(pk=task.deal_id))
        activity_totals_refresh(counted)
    return task


def _may_edit(actor: User, task: Task) -> bool:
    """The assignee, the creator, or a manager of the task's team edits its details."""
    return actor.pk in {task.assignee_id, task.created_by_id} or manages_team(actor, task.team_id)


@transaction.atomic
def task_update(
    *,
    actor: User,
    task: Task,
    title: str,
    due_date: datetime.date,
    due_time: datetime.time | None = None,
    priority: int = TaskPriority.NORMAL,
    assignee: User | None = None,
) -> Task:
    """Change a task's title, due date and time and priority (its assignee, its creator or a
    manager of its team), and its assignee (a manager of the team only; the new assignee is
    notified). Locks the task row.

    A change of due day, time or assignee re-arms the reminder from the new due time (in the
    assignee's time zone): it is sent once more, unless that time has already passed. Other
    edits leave the reminder as it was, so a title fix never reminds twice."""
    task = _locked_visible(actor, task)
    if not _may_edit(actor, task):
        raise ValidationError(
            gettext("Only the assignee, the creator or a manager may change this task.")
        )
    title = _validated(title, due_date, priority)
    new_assignee = assignee or task.assignee
    reassigned = new_assignee is not None and new_assignee.pk != task.assignee_id
    if reassigned:
        if not manages_team(actor, task.team_id):
            raise ValidationError(
                {
                    "assignee": gettext(
                        "Only a manager of the team may give the task to someone else."
                    )
                }
            )
        _require_assignable(actor, task.team_id, new_assignee)
    fields = ["title", "due_date", "due_at", "priority", "updated_at"]
    task.title, task.priority = title, priority
    if new_assignee is not None:
        due_at, remind_at = _due(new_assignee, due_date, due_time)
        if reassigned or due_date != task.due_date or due_at != task.due_at:
            now = timezone.now()
            task.remind_at = remind_at
            task.reminder_sent_at = now if remind_at <= now else None
            fields += ["remind_at", "reminder_sent_at"]
    else:  # the assignee's account was deleted: no one to remind
        due_at = (
            datetime.datetime.combine(due_date, due_time, tzinfo=timezone.get_current_timezone())
            if due_time is not None
            else None
        )
    task.due_date, task.due_at = due_date, due_at
    if reassigned:
        task.assignee = new_assignee
        fields.append("assignee")
    task.save(update_fields=fields)
    if reassigned:
        _notify_assigned(task, actor)
    return task


@written_for(lambda task: task.assignee)
def _reminder_notification(task: Task) -> Notification:
    """The reminder of a task, in its assignee's language."""
    with translation.override(task.assignee.language or None):
        when = date_format(task.due_date, "D d M Y")
        if task.due_at is not None:
            when += ", " + date_format(timezone.localtime(task.due_at, task.assignee.zone), "H:i")
        return Notification(
            user=task.assignee,
            title=gettext("Task due: %(title)s") % {"title": task.title},
            body=gettext("%(title)s on %(record)s, due %(when)s.")
            % {"title": task.title, "record": task.record, "when": when},
            link=record_url(task.record),
        )


def task_reminders_send_due(*, now: datetime.datetime | None = None) -> int:
    """Send the reminder of every open task whose time has come, once; return how many.
    Called by the calendar's reminder run (registered in `crm/apps.py`).

    Cron-safe: each batch is claimed with `select_for_update(skip_locked=True)` and marked
    sent in the transaction that writes its notifications (emails leave after the commit)."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Task.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    Q(remind_at__lte=now),
                    reminder_sent_at__isnull=True,
                    completed_at__isnull=True,
                    assignee__isnull=False,
                    assignee__is_active=True,
                )
                .select_related("assignee", "contact", "organization", "deal")
                .order_by("remind_at")[:REMINDER_BATCH]
            )
            if not batch:
                return total
            for task in batch:
                task.reminder_sent_at = now
            Task.objects.bulk_update(batch, ["reminder_sent_at"])
            notifications_send(notifications=[_reminder_notification(task) for task in batch])
            total += len(batch)
