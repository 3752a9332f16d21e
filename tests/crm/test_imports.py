import io
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from coop.models import AuditAction, AuditEvent
from crm.exchange import guess_mapping
from crm.imports import (
    ProgressWriter,
    import_undo,
    import_undo_start,
    read_table,
    records_import,
)
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    ImportRun,
    ImportStatus,
    Organization,
    StageChange,
)
from crm.reports import ReportFilters, funnel
from crm.services import contact_update
from finance.models import RevenueEntry, RevenueSource
from tests.crm.factories import ContactFactory, DealFactory, OrganizationFactory, PipelineFactory

pytestmark = pytest.mark.django_db

HEADER = "Name,Email,Phone,Organization,Job title,Notes\n"


def _csv(text: str, encoding="utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def _import(manager, team, text, kind="contacts", **options):
    table = read_table(_csv(text), "file.csv")
    mapping = guess_mapping(kind, table.headers)
    return records_import(
        actor=manager,
        team=team,
        kind=kind,
        file=_csv(text),
        file_name="file.csv",
        mapping=mapping,
        **options,
    )


def test_headers_are_guessed_in_english_and_other_languages():
    assert guess_mapping("contacts", ["Nom", "Courriel", "Société", "Téléphone", "?"]) == [
        "name",
        "email",
        "organization",
        "phone",
        "",
    ]
    assert guess_mapping("deals", ["Title", "Amount", "Währung", "Close date"]) == [
        "title",
        "value",
        "currency",
        "expected_close_date",
    ]


def test_a_csv_of_contacts_is_imported_with_organizations_and_recorded(manager, team):
    run = _import(
        manager,
        team,
        HEADER + "Ann Archer,ANN@acme.example,+33 1,Acme,Buyer,\nBob Baker,,,Acme,,\n",
    )
    assert (run.status, run.rows, run.created, run.failed) == ("imported", 2, 2, 0)
    ann = Contact.objects.get(name="Ann Archer")
    assert (ann.email, ann.phone, ann.organization.name) == ("ann@acme.example", "+33 1", "Acme")
    assert Organization.objects.filter(team=team).count() == 1
    event = AuditEvent.objects.get(action=AuditAction.IMPORTED)
    assert event.detail["created"] == 2 and event.actor_name == "manager"


def test_a_rep_cannot_import(rep, team):
    with pytest.raises(ValidationError, match="managers"):
        _import(rep, team, HEADER + "Ann,,,,,\n")
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("policy", "phone", "job_title"),
    [("skip", "", "Owner"), ("fill", "+44 2", "Owner"), ("overwrite", "+44 2", "Buyer")],
)
def test_a_contact_matched_by_email_is_skipped_filled_or_overwritten(
    manager, team, policy, phone, job_title
):
    existing = ContactFactory(team=team, email="ann@acme.example", phone="", job_title="Owner")
    run = _import(manager, team, HEADER + "Ann,Ann@Acme.example,+44 2,,Buyer,\n", policy=policy)
    existing.refresh_from_db()
    assert (existing.phone, existing.job_title) == (phone, job_title)
    assert Contact.objects.count() == 1
    assert run.created == 0


def test_a_similar_name_in_the_same_organization_is_the_same_contact(manager, team):
    acme = OrganizationFactory(team=team, name="Acme")
    existing = ContactFactory(team=team, name="Jean-Pierre Dupont", email="", organization=acme)
    run = _import(manager, team, HEADER + "Jean Pierre Dupont,,+33 6,Acme,,\n", policy="fill")
    existing.refresh_from_db()
    assert existing.phone == "+33 6"
    assert (run.created, run.updated) == (0, 1)


def test_duplicates_within_the_file_make_one_contact(manager, team):
    run = _import(
        manager, team, HEADER + "Ann,ann@x.example,,,,\nAnn A.,ANN@x.example,+1,,,\n", policy="fill"
    )
    assert Contact.objects.get().phone == "+1"
    assert (run.created, run.skipped) == (1, 1)


def test_all_or_nothing_writes_nothing_when_a_row_is_refused(manager, team):
    run = _import(manager, team, HEADER + "Ann,ann@x.example,,,,\n,not-an-email,,,,\n")
    assert run.status == ImportStatus.REFUSED
    assert not Contact.objects.exists()
    assert run.errors == [
        {
            "row": 3,
            "cells": ["", "not-an-email", "", "", "", ""],
            "reason": "name: required; email: not an email address",
        }
    ]


def test_valid_rows_mode_imports_them_and_gives_an_error_file(client, manager, team):
    run = _import(manager, team, HEADER + "Ann,,,,,\nBob,bad,,,,\n", all_or_nothing=False)
    assert (run.status, run.created, run.failed) == ("imported", 1, 1)
    client.force_login(manager)
    response = client.get(reverse("crm:import_errors", args=[run.pk]))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert text.splitlines() == ["Row,Reason", "3,email: not an email address,Bob,bad,,,,"]


def test_semicolons_a_byte_order_mark_and_neutralised_formulas_are_read(manager, team):
    text = "\ufeffName;Email;Phone\nAnn;ann@x.example;'+33 1\n=HYPERLINK(1);;\n"
    run = _import(manager, team, text)
    assert run.created == 2
    assert Contact.objects.get(name="Ann").phone == "+33 1"
    assert Contact.objects.filter(name="=HYPERLINK(1)").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Name,Email\nAnné,x\n".encode("latin-1"), "not UTF-8"),
        (b"Name,name\nAnn,Ann\n", "appears twice"),
        (b"Name\n" + b"x" * 200_000 + b"\n", "longer than"),
        (b"\n\n", "first row"),
    ],
    ids=["latin-1", "duplicate headers", "huge cell", "no header"],
)
def test_hostile_csv_files_are_refused_with_a_clear_message(manager, team, content, message):
    with pytest.raises(ValidationError, match=message):
        table = read_table(io.BytesIO(content), "hostile.csv")
        list(table.rows)


def test_an_xlsx_workbook_is_imported(manager, team):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Email", "Organization"])
    sheet.append(["Ann", "ann@x.example", "Acme"])
    sheet.append([42, None, None])
    file = io.BytesIO()
    workbook.save(file)
    table = read_table(io.BytesIO(file.getvalue()), "book.xlsx")
    run = records_import(
        actor=manager,
        team=team,
        kind="contacts",
        file=io.BytesIO(file.getvalue()),
        file_name="book.xlsx",
        mapping=guess_mapping("contacts", table.headers),
    )
    assert run.created == 2
    assert Contact.objects.filter(name="42").exists()


def test_a_zip_bomb_is_refused():
    file = io.BytesIO()
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    with pytest.raises(ValidationError, match="zip bomb"):
        read_table(io.BytesIO(file.getvalue()), "bomb.xlsx")


def test_a_workbook_with_a_huge_shared_strings_table_is_refused(monkeypatch):
    monkeypatch.setattr("crm.imports.XLSX_MAX_SHARED_STRINGS", 1_000)
    file = io.BytesIO()
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
        texts = "".join(f"<si><t>person{n}@x.example</t></si>" for n in range(100))
        archive.writestr("xl/sharedStrings.xml", f"<sst>{texts}</sst>")
    with pytest.raises(ValidationError, match="save its sheet as CSV"):
        read_table(io.BytesIO(file.getvalue()), "people.xlsx")


def test_deals_map_to_pipeline_and_stage_with_validated_amounts_and_dates(
    manager, team, pipeline, contact
):
    text = (
        "Title,Pipeline,Stage,Status,Value,Currency,Expected close date,Contact email\n"
        f'Roof,Sales,Proposal,open,"1250,50",EUR,31/12/2026,{contact.email}\n'
        "Won roof,sales,Won,won,10,EUR,01/01/2026,\n"
        "Bad,Sales,Nope,open,1.001,USD,2026-12-31,\n"
    )
    run = _import(manager, team, text, kind="deals", date_format="%d/%m/%Y", all_or_nothing=False)
    assert (run.created, run.failed) == (2, 1)
    roof = Deal.objects.get(title="Roof")
    assert (roof.value_cents, roof.stage.name, roof.contact, str(roof.expected_close_date)) == (
        125_050,
        "Proposal",
        contact,
        "2026-12-31",
    )
    assert Deal.objects.get(title="Won roof").status == DealStatus.WON
    reason = run.errors[0]["reason"]
    assert "stage: no stage" in reason and "currency: the pipeline counts in EUR" in reason
    assert "expected_close_date" in reason


def test_an_import_is_undone_while_its_records_are_unchanged(manager, team):
    existing = ContactFactory(team=team, email="ann@x.example", phone="")
    run = _import(manager, team, HEADER + "Ann,ann@x.example,+1,,,\nBob,,,Acme,,\n", policy="fill")
    import_undo(actor=manager, run=run)
    existing.refresh_from_db()
    assert existing.phone == ""
    assert list(Contact.objects.all()) == [existing]
    assert not Organization.objects.exists()
    run.refresh_from_db()
    assert run.status == ImportStatus.UNDONE


def test_an_import_whose_records_changed_since_cannot_be_undone(manager, team):
    run = _import(manager, team, HEADER + "Bob,,,,,\n")
    bob = Contact.objects.get()
    contact_update(actor=manager, contact=bob, phone="+9")
    with pytest.raises(ValidationError, match="Bob was changed"):
        import_undo(actor=manager, run=run)
    assert Contact.objects.filter(pk=bob.pk).exists()


def _upload(client, team, content: bytes, name="contacts.csv", **options):
    upload = io.BytesIO(content)
    upload.name = name
    data = {"kind": "contacts", "team": team.pk, "date_format": "%Y-%m-%d", "policy": "skip"}
    return client.post(reverse("crm:import_new"), {**data, **options, "file": upload})


def test_the_pages_map_preview_and_import_a_file(client, manager, team):
    ContactFactory(team=team, email="ann@x.example")
    client.force_login(manager)
    page = _upload(
        client, team, (HEADER + "Ann,ann@x.example,,,,\nBob,bad,,,,\nCy,,,,,\n").encode()
    )
    assert page.status_code == 200
    assert '<option value="email" selected>' in page.text
    assert "Matches a record" in page.text and "not an email address" in page.text
    options = {
        "kind": "contacts",
        "team": team.pk,
        "date_format": "%Y-%m-%d",
        "policy": "skip",
        "keep_valid": "on",
    }
    mapping = {f"map_{i}": field for i, field in enumerate(["name", "email", "", "", "", ""])}
    preview = client.post(reverse("crm:import_preview"), {**options, **mapping})
    assert '<option value="phone" selected>' not in preview.text
    response = client.post(reverse("crm:import_start"), {**options, **mapping}, follow=True)
    run = ImportRun.objects.get()
    assert response.redirect_chain[-1][0] == reverse("crm:import_detail", args=[run.pk])
    assert (run.created, run.skipped, run.failed) == (1, 1, 1)
    assert "Row 3: email: not an email address" in response.text
    again = _upload(client, team, (HEADER + "Dee,,,,,\n").encode())
    assert '<option value="phone" selected>' not in again.text, "the mapping is remembered"


def test_a_hostile_upload_is_refused_on_the_form(client, manager, team):
    client.force_login(manager)
    response = _upload(client, team, "Name\nAnné\n".encode("latin-1"))
    assert response.status_code == 400
    assert "not UTF-8" in response.text
    response = _upload(client, team, b"x", name="contacts.exe")
    assert "Upload a .csv or an .xlsx file" in response.text


def test_reps_cannot_import(client, rep, team):
    client.force_login(rep)
    assert "Only a team's managers" in client.get(reverse("crm:import_new")).text
    response = _upload(client, team, (HEADER + "Ann,,,,,\n").encode())
    assert response.status_code == 400
    assert not Contact.objects.exists()


def test_the_undo_button_undoes_the_import(client, manager, team):
    run = _import(manager, team, HEADER + "Bob,,,,,\n")
    client.force_login(manager)
    response = client.post(reverse("crm:import_undo", args=[run.pk]), follow=True)
    assert "The import was undone." in response.text
    assert not Contact.objects.exists()


def test_a_large_file_is_imported_in_the_background_with_progress(
    client, manager, team, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("crm.views.imports.BACKGROUND_BYTES", 10)
    client.force_login(manager)
    _upload(client, team, (HEADER + "Ann,,,,,\nBob,,,,,\n").encode())
    options = {"kind": "contacts", "team": team.pk, "date_format": "%Y-%m-%d", "policy": "skip"}
    mapping = {"map_0": "name"}
    stored = client.session["crm_import"]["stored"]
    assert default_storage.exists(stored), "the upload waits in the shared storage"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("crm:import_start"), {**options, **mapping})
    run = ImportRun.objects.get()
    assert response["Location"] == reverse("crm:import_detail", args=[run.pk])
    assert run.status == ImportStatus.RUNNING and not Contact.objects.exists()
    assert run.file.name == stored, "any worker finds the file through the import's row"
    page = client.get(response["Location"], headers={"HX-Request": "true"})
    assert '<progress id="import-progress" max="100" value="0">' in page.text
    assert "<html" not in page.text
    for callback in queued:
        callback()
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportStatus.IMPORTED, 2)
    done = client.get(response["Location"], headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    assert not default_storage.exists(stored), "the uploaded file is removed"
    assert run.file.name == ""


def test_the_progress_bar_reads_the_import_row_whatever_the_cache(client, manager, team, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    run = ImportRun.objects.create(
        team=team, actor=manager, kind="contacts", file_name="big.csv", status=ImportStatus.RUNNING
    )
    ImportRun.objects.filter(pk=run.pk).update(progress_rows=12_000, progress_percent=40)
    client.force_login(manager)
    url = reverse("crm:import_detail", args=[run.pk])
    page = client.get(url, headers={"HX-Request": "true"})
    assert "12000 rows read (40 %)" in page.text
    assert '<progress id="import-progress" max="100" value="40">' in page.text


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="progress is written from a second connection"
)
@pytest.mark.django_db(transaction=True)
def test_progress_is_committed_while_the_import_transaction_is_still_open(
    manager, team, monkeypatch
):
    """Another connection (a web process) sees each batch's progress before the import
    commits, and nothing of the import itself."""
    monkeypatch.setattr("crm.imports.BATCH_SIZE", 2)
    run = ImportRun.objects.create(
        team=team, actor=manager, kind="contacts", file_name="f.csv", status=ImportStatus.RUNNING
    )
    reader = connection.copy()
    seen = []
    text = HEADER + "".join(f"P{n},p{n}@x.example,,,,\n" for n in range(5))
    writer = ProgressWriter(run, len(text))

    def progress(rows: int) -> None:
        writer(rows, len(text))
        with reader.cursor() as cursor:
            cursor.execute(
                "SELECT progress_rows, (SELECT count(*) FROM crm_contacts) FROM crm_import_runs"
                " WHERE id = %s",
                [run.pk],
            )
            seen.append(cursor.fetchone())

    try:
        table = read_table(_csv(text), "f.csv")
        records_import(
            actor=manager,
            team=team,
            kind="contacts",
            file=_csv(text),
            file_name="f.csv",
            mapping=guess_mapping("contacts", table.headers),
            run=run,
            on_progress=progress,
        )
    finally:
        writer.close()
        reader.close()
    assert seen == [(2, 0), (4, 0), (5, 0)]
    run.refresh_from_db()
    assert (run.status, run.created) == (ImportStatus.IMPORTED, 5)


def test_a_small_undo_runs_in_the_request(manager, team):
    run = _import(manager, team, HEADER + "Bob,,,,,\n")
    assert import_undo_start(actor=manager, run=run).status == ImportStatus.UNDONE
    assert not Contact.objects.exists()


def test_a_large_undo_runs_in_the_background_with_its_status_shown(
    client, manager, team, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("crm.imports.UNDO_INLINE_RECORDS", 1)
    run = _import(manager, team, HEADER + "Ann,,,,,\nBob,,,,,\n")
    client.force_login(manager)
    url = reverse("crm:import_detail", args=[run.pk])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("crm:import_undo", args=[run.pk]), follow=True)
    assert "being undone in the background" in response.text
    run.refresh_from_db()
    assert run.status == ImportStatus.UNDOING and Contact.objects.count() == 2
    polling = client.get(url, headers={"HX-Request": "true"})
    assert "Undoing…" in polling.text and "<html" not in polling.text
    assert "Undo this import" not in client.get(url).text, "no second undo while it runs"
    for callback in queued:
        callback()
    run.refresh_from_db()
    assert run.status == ImportStatus.UNDONE and not Contact.objects.exists()
    assert client.get(url, headers={"HX-Request": "true"})["HX-Refresh"] == "true"


def test_a_background_undo_that_cannot_be_done_says_why(
    client, manager, team, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("crm.imports.UNDO_INLINE_RECORDS", 0)
    run = _import(manager, team, HEADER + "Ann,,,,,\n")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        import_undo_start(actor=manager, run=run)
    contact_update(actor=manager, contact=Contact.objects.get(), name="Ann Changed")
    for callback in queued:
        callback()
    run.refresh_from_db()
    assert run.status == ImportStatus.IMPORTED
    assert "changed after the import" in run.undo_error
    client.force_login(manager)
    page = client.get(reverse("crm:import_detail", args=[run.pk]))
    assert "The undo could not be done" in page.text and "Undo this import" in page.text


DEALS = "Title,Pipeline,Stage,Status,Value,Currency,Expected close date,Contact email\n"


@pytest.mark.parametrize(
    ("policy", "value_cents", "close"),
    [("skip", 10_000, None), ("fill", 10_000, "2027-03-31"), ("overwrite", 25_000, "2027-03-31")],
)
def test_a_deal_matched_by_title_pipeline_and_contact_follows_the_policy(
    manager, team, pipeline, stages, contact, policy, value_cents, close
):
    existing = DealFactory(
        pipeline=pipeline,
        stage=stages["Proposal"],
        contact=contact,
        title="Solar Roof",
        value_cents=10_000,
        currency="EUR",
        expected_close_date=None,
    )
    text = DEALS + f"solar  roof,Sales,Proposal,open,250,EUR,2027-03-31,{contact.email}\n"
    run = _import(manager, team, text, kind="deals", policy=policy)
    assert Deal.objects.count() == 1, "the row is the deal already there"
    existing.refresh_from_db()
    assert (
        existing.value_cents,
        existing.expected_close_date and str(existing.expected_close_date),
    ) == (
        value_cents,
        close,
    )
    assert (run.created, run.updated + run.skipped) == (0, 1)


def test_deals_differing_in_contact_or_pipeline_are_new_and_file_twins_are_one(
    manager, team, pipeline, stages, contact
):
    DealFactory(pipeline=pipeline, stage=stages["Proposal"], contact=contact, title="Roof")
    other = PipelineFactory(team=team, name="Renewals", currency="EUR")
    text = DEALS + (
        "Roof,Sales,Proposal,open,1,EUR,,\n"  # no contact: another deal
        f"Roof,Renewals,{other.stages.first().name},open,1,EUR,,{contact.email}\n"
        "Panels,Sales,Proposal,open,1,EUR,,\n"
        "PANELS,Sales,Proposal,open,2,EUR,,\n"  # the file's own twin
    )
    run = _import(manager, team, text, kind="deals", policy="overwrite")
    assert (run.created, run.skipped) == (3, 1)
    assert Deal.objects.filter(title__iexact="panels").get().value_cents == 200


def test_a_closed_deal_is_never_changed_by_an_import(manager, team, pipeline, stages, contact):
    won = DealFactory(
        pipeline=pipeline, stage=stages["Won"], contact=contact, title="Roof", value_cents=500
    )
    Deal.objects.filter(pk=won.pk).update(status=DealStatus.WON, closed_at=won.created_at)
    text = DEALS + f"Roof,Sales,Won,won,99,EUR,,{contact.email}\n"
    run = _import(manager, team, text, kind="deals", policy="overwrite")
    won.refresh_from_db()
    assert (won.value_cents, run.created, run.skipped) == (500, 0, 1)


def test_a_deal_imported_as_won_books_its_revenue_and_the_undo_removes_it(
    manager, team, pipeline, contact
):
    text = DEALS + (
        f"Won roof,Sales,Won,won,1200,EUR,,{contact.email}\nOpen roof,Sales,Proposal,open,5,EUR,,\n"
    )
    run = _import(manager, team, text, kind="deals")
    deal = Deal.objects.get(title="Won roof")
    entry = RevenueEntry.objects.get()
    assert (entry.deal_id, entry.amount_cents, entry.currency, entry.source) == (
        deal.pk,
        120_000,
        "EUR",
        RevenueSource.DEAL,
    )
    assert entry.team_id == team.pk and entry.booked_on == deal.closed_at.date()
    import_undo(actor=manager, run=run)
    assert not RevenueEntry.objects.exists() and not Deal.objects.exists()


def test_a_refused_all_or_nothing_deal_import_books_no_revenue(manager, team, pipeline):
    text = DEALS + "Won roof,Sales,Won,won,1200,EUR,,\nBad,Sales,Nope,open,1,EUR,,\n"
    run = _import(manager, team, text, kind="deals")
    assert run.status == ImportStatus.REFUSED
    assert not RevenueEntry.objects.exists() and not Deal.objects.exists()


def test_imported_deals_begin_their_stage_history_and_count_in_the_funnel(
    manager, team, pipeline, stages, contact
):
    text = DEALS + "Roof,Sales,Proposal,open,5,EUR,,\nWon roof,Sales,Won,won,10,EUR,,\n"
    run = _import(manager, team, text, kind="deals")
    roof, won = Deal.objects.get(title="Roof"), Deal.objects.get(title="Won roof")
    history = {
        change.deal_id: (change.kind, change.to_stage_name, change.pipeline_id, change.left_at)
        for change in StageChange.objects.all()
    }
    assert history == {
        roof.pk: ("created", "Proposal", pipeline.pk, None),
        won.pk: ("created", "Won", pipeline.pk, None),
    }
    today = timezone.localdate()
    filters = ReportFilters(
        start=today, end=today, zone=timezone.get_current_timezone(), pipeline=pipeline
    )
    by_stage = {
        row.stage: (row.entered, row.converted) for row in funnel(viewer=manager, filters=filters)
    }
    assert by_stage["Proposal"] == (1, 0)
    import_undo(actor=manager, run=run)
    assert not StageChange.objects.exists()
