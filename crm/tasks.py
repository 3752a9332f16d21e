from django.core.exceptions import ValidationError
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext

from coop.models import User
from crm.imports import ProgressWriter, import_undo, records_import, upload_delete
from crm.models import ImportRun, ImportStatus


@task()
def import_file(run_id: str, options: dict) -> dict:
    """Run a queued import (`crm.imports.import_queue`) from its file in the default storage,
    writing how far it got on its row (`ProgressWriter`) for the import page's progress bar,
    and delete the file once it ran. Not retried: an import is all or nothing, and its file
    is gone once it ran."""
    run = ImportRun.objects.select_related("team", "actor").get(pk=run_id)
    if run.status != ImportStatus.RUNNING:
        return {"status": run.status}
    stored_name = run.file.name
    writer = None
    try:
        with run.file.open("rb") as file:
            writer = ProgressWriter(run, run.file.size)
            run = records_import(
                actor=run.actor,
                team=run.team,
                kind=run.kind,
                file=file,
                file_name=run.file_name,
                run=run,
                # How far into the file the reader is (it reads ahead by a buffer at most).
                on_progress=lambda rows: writer(rows, file.tell()),
                **options,
            )
    except Exception as error:
        # Whatever went wrong, the page stops waiting and says so; the unexpected is raised
        # on, for the task's result and the logs.
        run.status = ImportStatus.REFUSED
        failed = gettext("The import failed (%(error)s).") % {"error": error}
        reason = " ".join(getattr(error, "messages", [failed]))
        run.errors = [{"row": 0, "cells": [], "reason": reason}]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "errors", "finished_at"])
        if not isinstance(error, ValidationError | OSError):
            raise
    finally:
        if writer is not None:
            writer.close()
        upload_delete(stored_name)
        ImportRun.objects.filter(pk=run_id).update(file="")
    return {"status": run.status, "rows": run.rows}


@task()
def import_undo_task(run_id: str, actor_id: str | None) -> dict:
    """Undo a large import queued by `crm.imports.import_undo_start`; when it can no longer
    be undone, put it back to "imported" with the reason, for its page."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status != ImportStatus.UNDOING:
        return {"status": run.status}
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        run = import_undo(actor=actor, run=run)
    except ValidationError as error:
        ImportRun.objects.filter(pk=run_id, status=ImportStatus.UNDOING).update(
            status=ImportStatus.IMPORTED, undo_error=" ".join(error.messages)
        )
        return {"status": ImportStatus.IMPORTED}
    return {"status": run.status}
