"""Tasks and notes on a contact, an organization or a deal: the record page's "Next steps and
notes" section (loaded in place), and the writes it and the home page make.

Under htmx each write answers with the refreshed section and fires `tasksChanged` or
`notesChanged`, on which the home page's lists reload themselves; without htmx it redirects
to the record's page with a message.
"""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from coop.htmx import varies_on_htmx
from coop.models import User
from coop.visibility import manages_team
from crm.day import has_next_step, record_activity
from crm.forms import NoteForm, TaskForm, submit_to_service
from crm.models import Contact, Deal, Note, Organization, Task
from crm.next_steps import (
    record_team_id,
    record_url,
    task_complete,
    task_create,
    task_reopen,
    task_update,
)
from crm.notes import note_create, note_delete, note_update, team_usernames

KINDS = {"contacts": Contact, "organizations": Organization, "deals": Deal}
KIND_OF = {model: kind for kind, model in KINDS.items()}


def visible_record(request: HttpRequest, kind: str, pk: UUID):
    """The contact, organization or deal if the user may see it; a 404 otherwise."""
    model = KINDS.get(kind)
    if model is None:
        raise Http404("No such kind of record.")
    records = model.objects.visible_to(request.user)
    if model is Deal:
        records = records.select_related("pipeline")
    return get_object_or_404(records, pk=pk)


def _members(request: HttpRequest, record) -> object | None:
    """The team members a manager may assign the record's tasks to; None for anyone else."""
    team_id = record_team_id(record)
    if not manages_team(request.user, team_id):
        return None
    return User.objects.filter(is_active=True, memberships__team_id=team_id).order_by(
        "display_name", "username"
    )


# The record pages hold other forms (the Schedule Meeting dialog's `title`, a task's edit
# form): the "Add a next step" and "Add a note" fields get ids of their own.
NEW_TASK_ID = "new-task-%s"
NEW_NOTE_ID = "new-note-%s"


def _activity(
    request: HttpRequest,
    record,
    *,
    task_form: TaskForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
    error: str = "",
    page: bool = False,
) -> HttpResponse:
    """The section or, with `page`, a page around it (for a form posted without htmx and
    refused: the reasons and the form, with status 400)."""
    context = {
        "record": record,
        "kind": KIND_OF[type(record)],
        "no_next_step": isinstance(record, Deal) and not has_next_step(record),
        # A contact's timeline pins its open tasks; contacts and organizations show their
        # notes and done tasks on their timelines: not loaded for this section.
        "activity": record_activity(
            record=record, pinned=not isinstance(record, Contact), feed=isinstance(record, Deal)
        ),
        "task_form": task_form or TaskForm(members=_members(request, record), auto_id=NEW_TASK_ID),
        "note_form": note_form or NoteForm(auto_id=NEW_NOTE_ID),
        "error": error,
    }
    template = "crm/record_activity_page.html" if page else "crm/partials/record_activity.html"
    return render(request, template, context, status=status)


def _answer(request: HttpRequest, record, event: str, message: str) -> HttpResponse:
    if request.htmx:
        return trigger_client_event(_activity(request, record), event)
    messages.success(request, message)
    return _back(request, record)


def _back(request: HttpRequest, record) -> HttpResponse:
    """To `next` when it is a path of this site, else to the record's page."""
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = record_url(record)
    return HttpResponseRedirect(target)


def _refused(request: HttpRequest, record, form, event: str) -> HttpResponse:
    """Bad input, nothing written: the section again with the form's errors (under htmx with
    200, so htmx swaps it in; otherwise a 400 page around it)."""
    forms = {"task_form": form} if event == "tasks" else {"note_form": form}
    if request.htmx:
        return _activity(request, record, **forms)
    return _activity(request, record, status=400, page=True, **forms)


@require_GET
def record_activity_view(request: HttpRequest, kind: str, pk: UUID) -> HttpResponse:
    return _activity(request, visible_record(request, kind, pk))


@require_POST
@varies_on_htmx
def task_new(request: HttpRequest, kind: str, pk: UUID) -> HttpResponse:
    record = visible_record(request, kind, pk)
    form = TaskForm(request.POST, members=_members(request, record), auto_id=NEW_TASK_ID)
    if form.is_valid():
        task = submit_to_service(
            form, task_create, actor=request.user, record=record, **form.task_fields()
        )
        if task is not None:
            return _answer(
                request,
                record,
                "tasksChanged",
                gettext("Next step added: %(title)s") % {"title": task.title},
            )
    return _refused(request, record, form, "tasks")


@require_POST
@varies_on_htmx
def task_done(request: HttpRequest, pk: UUID) -> HttpResponse:
    """Tick a task done (`done` present) or undo it (`done` absent)."""
    task = get_object_or_404(
        Task.objects.visible_to(request.user).select_related("contact", "organization", "deal"),
        pk=pk,
    )
    record = task.record
    if isinstance(record, Deal):
        record = Deal.objects.select_related("pipeline").get(pk=record.pk)
    service = task_complete if request.POST.get("done") else task_reopen
    task = service(actor=request.user, task=task)
    message = (gettext("Done: %(title)s") if task.is_done else gettext("Open again: %(title)s")) % {
        "title": task.title
    }
    return _answer(request, record, "tasksChanged", message)


def _task_record(task: Task):
    record = task.record
    if isinstance(record, Deal):
        record = Deal.objects.select_related("pipeline").get(pk=record.pk)
    return record


@require_http_methods(["GET", "POST"])
@varies_on_htmx
def task_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The task's edit form in place of it (GET), and its save (POST): details by the
    assignee, the creator or a manager; the assignee by a manager (`task_update` decides)."""
    task = get_object_or_404(
        Task.objects.visible_to(request.user).select_related(
            "assignee", "contact", "organization", "deal"
        ),
        pk=pk,
    )
    record = _task_record(task)
    initial = {
        "title": task.title,
        "due_date": task.due_date,
        "due_time": (
            timezone.localtime(task.due_at, task.assignee.zone).time()
            if task.due_at and task.assignee
            else None
        ),
        "priority": task.priority,
        "assignee": task.assignee_id,
    }
    form = TaskForm(
        request.POST or None,
        initial=initial,
        members=_members(request, record),
        auto_id=f"task-{task.pk}-%s",  # unique beside the page's "Add a next step" form
    )
    if "assignee" in form.fields:
        form.fields["assignee"].empty_label = gettext("Unchanged")
    if form.is_valid():
        updated = submit_to_service(
            form, task_update, actor=request.user, task=task, **form.task_fields()
        )
        if updated is not None:
            return _answer(
                request,
                record,
                "tasksChanged",
                gettext("Next step saved: %(title)s") % {"title": updated.title},
            )
    status = 400 if form.is_bound else 200
    context = {"task": task, "form": form, "kind": KIND_OF[type(record)], "record": record}
    template = "crm/partials/task_edit.html" if request.htmx else "crm/task_edit_page.html"
    return render(request, template, context, status=status)


@require_POST
@varies_on_htmx
def note_new(request: HttpRequest, kind: str, pk: UUID) -> HttpResponse:
    record = visible_record(request, kind, pk)
    form = NoteForm(request.POST, auto_id=NEW_NOTE_ID)
    if form.is_valid():
        note = submit_to_service(
            form, note_create, actor=request.user, record=record, body=form.cleaned_data["body"]
        )
        if note is not None:
            return _answer(request, record, "notesChanged", gettext("Note added."))
    return _refused(request, record, form, "notes")


def _visible_note(request: HttpRequest, pk: UUID) -> Note:
    notes = Note.objects.visible_to(request.user).select_related(
        "author", "contact", "organization", "deal__pipeline"
    )
    return get_object_or_404(notes, pk=pk)


@require_GET
def note_entry(request: HttpRequest, pk: UUID) -> HttpResponse:
    """One note as its record's page shows it: what the edit form's Cancel puts back in place
    of the form (a deal's notes in its activity section, a contact's or organization's on the
    timeline)."""
    note = _visible_note(request, pk)
    members = team_usernames(note.team_id)
    if note.deal_id:
        template = "crm/partials/record_activity.html#note_entry"
        context = {"item": note, "activity": {"members": members}}
    else:
        note.entry_kind = "note"
        template = "crm/partials/timeline_record_entry.html"
        context = {"entry": note, "members": members}
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@varies_on_htmx
def note_edit(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The author's edit form in place of the note (GET), and its save (POST)."""
    note = _visible_note(request, pk)
    record = note.record
    form = NoteForm(request.POST or None, initial={"body": note.body})
    refusal = (
        "" if note.author_id == request.user.pk else gettext("Only its author may edit a note.")
    )
    if not refusal and form.is_valid():
        try:
            note_update(actor=request.user, note=note, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _answer(request, record, "notesChanged", gettext("Note saved."))
    status = 400 if refusal or form.is_bound else 200
    context = {"note": note, "form": form, "refusal": refusal, "kind": KIND_OF[type(record)]}
    template = "crm/partials/note_edit.html" if request.htmx else "crm/note_edit_page.html"
    return render(request, template, context, status=status)


@require_POST
@varies_on_htmx
def note_delete_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    note = _visible_note(request, pk)
    record = note.record
    try:
        note_delete(actor=request.user, note=note)
    except ValidationError as error:
        reason = " ".join(error.messages)
        return _activity(request, record, status=400, error=reason, page=not request.htmx)
    return _answer(request, record, "notesChanged", gettext("Note deleted."))
