from pathlib import Path

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.tasks import task
from django.utils import timezone

from crm.imports import progress_key, records_import
from crm.models import ImportRun, ImportStatus

PROGRESS_TIMEOUT = 24 * 3600


@task()
def import_file(run_id: str, path: str, options: dict) -> dict:
    """Run a queued import (`crm.imports.import_queue`), saying in the cache how many rows it
    has read, for the import page's progress bar. Not retried: an import is all or nothing,
    and its file is gone once it ran."""
    run = ImportRun.objects.select_related("team", "actor").get(pk=run_id)
    if run.status != ImportStatus.RUNNING:
        return {"status": run.status}
    file_path = Path(path)
    try:
        size = max(file_path.stat().st_size, 1)
        with file_path.open("rb") as file:

            def progress(rows: int) -> None:
                # How far into the file the reader is (it reads ahead by a buffer at most).
                percent = min(file.tell() * 100 // size, 99)
                cache.set(progress_key(run), {"rows": rows, "percent": percent}, PROGRESS_TIMEOUT)

            run = records_import(
                actor=run.actor,
                team=run.team,
                kind=run.kind,
                file=file,
                file_name=run.file_name,
                run=run,
                on_progress=progress,
                **options,
            )
    except Exception as error:
        # Whatever went wrong, the page stops waiting and says so; the unexpected is raised
        # on, for the task's result and the logs.
        run.status = ImportStatus.REFUSED
        reason = " ".join(getattr(error, "messages", [f"The import failed ({error})."]))
        run.errors = [{"row": 0, "cells": [], "reason": reason}]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "errors", "finished_at"])
        if not isinstance(error, ValidationError | OSError):
            raise
    finally:
        file_path.unlink(missing_ok=True)
        cache.delete(progress_key(run))
    return {"status": run.status, "rows": run.rows}
