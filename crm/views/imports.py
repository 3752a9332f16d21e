"""Import pages, for a team's managers: upload → column mapping and preview → import, then
the record of each import with its error file and its undo.

The uploaded file waits for the next steps in IMPORT_DIR under a random name that only the
uploader's session knows (`_stash`)."""

import secrets
import shutil
import tempfile
from pathlib import Path
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coop.visibility import teams_managed_by
from crm.exchange import COLUMNS, guess_mapping, headers_key
from crm.forms import ImportOptionsForm, ImportUploadForm, mapping_from
from crm.imports import (
    Matcher,
    RowChecker,
    check_rows,
    error_file,
    import_undo,
    read_table,
    records_import,
)
from crm.models import ImportMapping, ImportRun
from crm.services import import_mapping_remember

IMPORT_DIR = Path(tempfile.gettempdir()) / "coop-imports"
PREVIEW_ROWS = 10
SESSION_KEY = "crm_import"


def _stash(request: HttpRequest, upload) -> dict:
    IMPORT_DIR.mkdir(mode=0o700, exist_ok=True)
    token = secrets.token_urlsafe(24)
    with (IMPORT_DIR / token).open("wb") as file:
        shutil.copyfileobj(upload, file)
    stashed = {"token": token, "file_name": Path(upload.name).name[:255]}
    request.session[SESSION_KEY] = stashed
    return stashed


def _stashed(request: HttpRequest) -> tuple[Path, str]:
    """The file this session uploaded last, or a 404."""
    stashed = request.session.get(SESSION_KEY) or {}
    path = IMPORT_DIR / stashed.get("token", "-")
    if not path.is_file():
        raise Http404("Upload the file again.")
    return path, stashed["file_name"]


def _headers(path: Path, file_name: str) -> list[str]:
    with path.open("rb") as file:
        return read_table(file, file_name).headers


def _preview(path: Path, file_name: str, form: ImportOptionsForm, mapping: list[str]) -> dict:
    """The first rows checked and matched, cell by cell, and the mapping as chosen."""
    data = form.cleaned_data
    kind, team = data["kind"], data["team"]
    with path.open("rb") as file:
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


def _mapping_page(request, form, path, file_name, mapping, status=200) -> HttpResponse:
    context = {"form": form, "file_name": file_name}
    try:
        context |= _preview(path, file_name, form, mapping)
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
    path, file_name = IMPORT_DIR / "-", ""
    try:
        stashed = _stash(request, form.cleaned_data["file"])
        path, file_name = IMPORT_DIR / stashed["token"], stashed["file_name"]
        headers = _headers(path, file_name)
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
    return _mapping_page(request, options, path, file_name, mapping)


@require_POST
def import_preview(request: HttpRequest) -> HttpResponse:
    """The mapping page again with the mapping as changed (the preview follows it)."""
    path, file_name = _stashed(request)
    form = ImportOptionsForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "crm/import_new.html", {"form": form}, status=400)
    try:
        headers = _headers(path, file_name)
    except ValidationError as error:
        raise Http404("Upload the file again.") from error
    mapping = mapping_from(request.POST, headers, form.cleaned_data["kind"])
    return _mapping_page(request, form, path, file_name, mapping)


@require_POST
def import_start(request: HttpRequest) -> HttpResponse:
    path, file_name = _stashed(request)
    form = ImportOptionsForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "crm/import_new.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        headers = _headers(path, file_name)
        mapping = mapping_from(request.POST, headers, data["kind"])
        with path.open("rb") as file:
            run = records_import(
                actor=request.user,
                team=data["team"],
                kind=data["kind"],
                file=file,
                file_name=file_name,
                mapping=mapping,
                policy=data["policy"],
                all_or_nothing=not data["keep_valid"],
                date_format=data["date_format"],
            )
    except ValidationError as error:
        form.add_error(None, error)
        return _mapping_page(request, form, path, file_name, [], status=400)
    import_mapping_remember(team=data["team"], kind=data["kind"], headers=headers, mapping=mapping)
    path.unlink(missing_ok=True)
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
def import_detail(request: HttpRequest, pk: UUID) -> HttpResponse:
    return render(request, "crm/import_detail.html", {"run": visible_run(request, pk)})


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
        import_undo(actor=request.user, run=run)
        messages.success(request, "The import was undone.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("crm:import_detail", pk=run.pk)
