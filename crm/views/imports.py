"""Import pages, for a team's managers: upload → column mapping and preview → import, then
the record of each import with its error file and its undo.

The uploaded file waits for the next steps in the default storage (MEDIA_ROOT/imports/, shared
by every web process and worker) under a random name that only the uploader's session knows
(`crm.imports.upload_store`)."""

from pathlib import Path
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.htmx import varies_on_htmx
from coop.visibility import teams_managed_by
from crm.exchange import COLUMNS, guess_mapping, headers_key
from crm.forms import ImportOptionsForm, ImportUploadForm, mapping_from
from crm.imports import (
    Matcher,
    RowChecker,
    check_rows,
    error_file,
    import_queue,
    import_undo_start,
    read_table,
    records_import,
    upload_delete,
    upload_store,
)
from crm.models import ImportMapping, ImportRun, ImportStatus
from crm.services import import_mapping_remember

PREVIEW_ROWS = 10
# Larger files are imported by a background task, with a progress bar (about 20,000 rows).
BACKGROUND_BYTES = 2 * 1024 * 1024
SESSION_KEY = "crm_import"


def _stash(request: HttpRequest, upload) -> dict:
    """Keep the upload for the next steps, in place of the session's previous one."""
    upload_delete((request.session.get(SESSION_KEY) or {}).get("stored", ""))
    stashed = {"stored": upload_store(upload), "file_name": Path(upload.name).name[:255]}
    request.session[SESSION_KEY] = stashed
    return stashed


def _stashed(request: HttpRequest) -> tuple[str, str]:
    """The stored name and the file name of the file this session uploaded last, or a 404."""
    stashed = request.session.get(SESSION_KEY) or {}
    stored = stashed.get("stored", "")
    if not stored or not default_storage.exists(stored):
        raise Http404("Upload the file again.")
    return stored, stashed["file_name"]


def _headers(stored: str, file_name: str) -> list[str]:
    with default_storage.open(stored, "rb") as file:
        return read_table(file, file_name).headers


def _preview(stored: str, file_name: str, form: ImportOptionsForm, mapping: list[str]) -> dict:
    """The first rows checked and matched, cell by cell, and the mapping as chosen."""
    data = form.cleaned_data
    kind, team = data["kind"], data["team"]
    with default_storage.open(stored, "rb") as file:
        table = read_table(file, file_name)
        checker = RowChecker(kind=kind, team=team, mapping=mapping, date_format=data["date_format"])
        rows = list(check_rows(table=table, checker=checker, limit=PREVIEW_ROWS))
    matcher = Matcher(kind, team)
    previews = [
        {
            "row": row,
            "cells": [
                (cell, row.errors.get(field) if field else None)
                for cell, field in zip(row.cells, mapping, strict=True)
            ],
            "match": not row.errors and matcher.find(row.values) is not None,
        }
        for row in rows
    ]
    return {
        "columns": list(zip(table.headers, mapping, strict=True)),
        "fields": COLUMNS[kind],
        "previews": previews,
    }


def _mapping_page(request, form, stored, file_name, mapping, status=200) -> HttpResponse:
    context = {"form": form, "file_name": file_name}
    try:
        context |= _preview(stored, file_name, form, mapping)
    except ValidationError as error:
        form.add_error(None, error)
        status = 400
    return render(request, "crm/import_mapping.html", context, status=status)


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if not form.is_valid():
        status = 400 if form.is_bound else 200
        return render(request, "crm/import_new.html", {"form": form}, status=status)
    try:
        stashed = _stash(request, form.cleaned_data["file"])
        stored, file_name = stashed["stored"], stashed["file_name"]
        headers = _headers(stored, file_name)
    except ValidationError as error:
        form.add_error("file", error)
        return render(request, "crm/import_new.html", {"form": form}, status=400)
    kind, team = form.cleaned_data["kind"], form.cleaned_data["team"]
    remembered = ImportMapping.objects.filter(
        team=team, kind=kind, headers_key=headers_key(headers)
    ).first()
    mapping = remembered.mapping if remembered else guess_mapping(kind, headers)
    # The next steps take the options again, without the file.
    options = ImportOptionsForm(request.POST, user=request.user)
    options.is_valid()
    return _mapping_page(request, options, stored, file_name, mapping)


@require_POST
def import_preview(request: HttpRequest) -> HttpResponse:
    """The mapping page again with the mapping as changed (the preview follows it)."""
    stored, file_name = _stashed(request)
    form = ImportOptionsForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "crm/import_new.html", {"form": form}, status=400)
    try:
        headers = _headers(stored, file_name)
    except ValidationError as error:
        raise Http404("Upload the file again.") from error
    mapping = mapping_from(request.POST, headers, form.cleaned_data["kind"])
    return _mapping_page(request, form, stored, file_name, mapping)


@require_POST
def import_start(request: HttpRequest) -> HttpResponse:
    stored, file_name = _stashed(request)
    form = ImportOptionsForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "crm/import_new.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        headers = _headers(stored, file_name)
        mapping = mapping_from(request.POST, headers, data["kind"])
        options = {
            "mapping": mapping,
            "policy": data["policy"],
            "all_or_nothing": not data["keep_valid"],
            "date_format": data["date_format"],
        }
        common = {"actor": request.user, "team": data["team"], "kind": data["kind"]}
        if default_storage.size(stored) > BACKGROUND_BYTES:
            run = import_queue(**common, stored_name=stored, file_name=file_name, options=options)
        else:
            with default_storage.open(stored, "rb") as file:
                run = records_import(**common, file=file, file_name=file_name, **options)
            upload_delete(stored)
    except ValidationError as error:
        form.add_error(None, error)
        return _mapping_page(request, form, stored, file_name, [], status=400)
    import_mapping_remember(team=data["team"], kind=data["kind"], headers=headers, mapping=mapping)
    request.session.pop(SESSION_KEY, None)
    return redirect("crm:import_detail", pk=run.pk)


def visible_run(request: HttpRequest, pk: UUID) -> ImportRun:
    runs = ImportRun.objects.filter(team__in=teams_managed_by(request.user))
    return get_object_or_404(runs.select_related("team", "actor"), pk=pk)


@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    teams = teams_managed_by(request.user)
    runs = ImportRun.objects.filter(team__in=teams).select_related("team", "actor")[:100]
    return render(request, "crm/import_list.html", {"runs": runs, "manages": teams.exists()})


@require_GET
@varies_on_htmx
def import_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    """The import's record; while it runs or is being undone in the background, `#progress`
    polls itself (the progress is on the import's row), and swaps in the whole page once the
    import is over."""
    run = visible_run(request, pk)
    context = {"run": run}
    if request.htmx and run.status in (ImportStatus.RUNNING, ImportStatus.UNDOING):
        return render(request, "crm/import_detail.html#progress", context)
    response = render(request, "crm/import_detail.html", context)
    if request.htmx:
        response["HX-Refresh"] = "true"
    return response


@require_GET
def import_errors(request: HttpRequest, pk: UUID) -> StreamingHttpResponse:
    run = visible_run(request, pk)
    response = StreamingHttpResponse(error_file(run), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="errors-{run.pk}.csv"'
    return response


@require_POST
def import_undo_view(request: HttpRequest, pk: UUID) -> HttpResponse:
    run = visible_run(request, pk)
    try:
        run = import_undo_start(actor=request.user, run=run)
        if run.status == ImportStatus.UNDOING:
            messages.info(request, gettext("The import is being undone in the background."))
        else:
            messages.success(request, gettext("The import was undone."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("crm:import_detail", pk=run.pk)
