"""Exports of filtered lists, and the round trip: what is exported imports back unchanged."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from crm.exchange import guess_mapping
from crm.imports import read_table, records_import
from crm.models import Contact, Deal, DealStatus, Organization
from tests.coop.factories import MembershipFactory
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    PipelineFactory,
)

pytestmark = pytest.mark.django_db


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_the_contact_export_is_the_filtered_list_neutralised_and_audited(rep_client, team):
    acme = OrganizationFactory(team=team, name="Acme")
    ContactFactory(team=team, name="Ann", email="ann@x.example", phone="+33 1", organization=acme)
    ContactFactory(team=team, name="Bob")
    response = rep_client.get(reverse("crm:contact_export"), {"q": "ann"})
    assert response.streaming
    assert _rows(response) == [
        ["Name", "Email", "Phone", "Organization", "Job title", "Notes"],
        ["Ann", "ann@x.example", "'+33 1", "Acme", "Buyer", ""],
    ]
    event = AuditEvent.objects.get(action=AuditAction.EXPORTED)
    assert event.detail == {
        "records": "contacts",
        "format": "csv",
        "filters": {"q": "ann"},
        "rows": 1,
    }


def test_exports_show_only_visible_records(rep_client, other_team):
    ContactFactory(team=other_team, name="Hidden")
    OrganizationFactory(team=other_team, name="Hidden Org")
    assert len(_rows(rep_client.get(reverse("crm:contact_export")))) == 1
    assert len(_rows(rep_client.get(reverse("crm:organization_export")))) == 1


def test_the_deal_export_follows_the_deal_list_filters(rep_client, pipeline, contact):
    DealFactory(pipeline=pipeline, contact=contact, title="Open roof", value_cents=12_345)
    won = DealFactory(pipeline=pipeline, contact=contact, title="Won roof")
    Deal.objects.filter(pk=won.pk).update(status=DealStatus.WON, closed_at=won.created_at)
    rows = _rows(rep_client.get(reverse("crm:deal_export")))
    assert [row[0] for row in rows[1:]] == ["Open roof"]
    assert rows[1][3:6] == ["open", "123.45", "EUR"]
    rows = _rows(rep_client.get(reverse("crm:deal_export"), {"status": "won"}))
    assert [row[0] for row in rows[1:]] == ["Won roof"]


def test_an_xlsx_export_opens_as_a_workbook(rep_client, team):
    ContactFactory(team=team, name="=cmd|' /C calc'!A0")
    response = rep_client.get(reverse("crm:organization_export"), {"format": "xlsx"})
    assert response.status_code == 200
    response = rep_client.get(reverse("crm:contact_export"), {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0"
    assert rep_client.get(reverse("crm:contact_export"), {"format": "pdf"}).status_code == 404


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_into_an_empty_team_changes_nothing(
    client, manager, team, other_team, file_format
):
    """Export a team's organizations, contacts and deals, import them into another team with
    the same managers and pipeline: the records are the same, field by field."""
    acme = OrganizationFactory(
        team=team,
        name="Acme",
        website="https://acme.example",
        domain="acme.example",
        address="1 Port St\nNantes",
        size="10-49",
        notes="=SUM(A1)",
    )
    ContactFactory(team=team, name="Ann", email="ann@x.example", phone="+33 1", organization=acme)
    ContactFactory(team=team, name="Bob", email="", phone="-1", notes="line 1\nline 2")
    ann = Contact.objects.get(name="Ann")
    sales = PipelineFactory(team=team, name="Sales")
    PipelineFactory(team=other_team, name="Sales")
    DealFactory(
        pipeline=sales,
        stage=sales.stages.get(name="Proposal"),
        contact=ann,
        title="Roof",
        value_cents=125_050,
        expected_close_date=datetime.date(2026, 12, 31),
    )
    MembershipFactory(team=other_team, user=manager, role="manager")
    client.force_login(manager)
    deal_fields = ("title", "stage__name", "status", "value_cents", "currency")
    for kind, model, fields in (
        ("organizations", Organization, ("name", "website", "domain", "address", "size", "notes")),
        (
            "contacts",
            Contact,
            ("name", "email", "phone", "job_title", "notes", "organization__name"),
        ),
        ("deals", Deal, (*deal_fields, "expected_close_date", "contact__email")),
    ):
        url = reverse(f"crm:{kind[:-1]}_export")
        body = b"".join(client.get(url, {"format": file_format}).streaming_content)
        name = f"{kind}.{file_format}"
        table = read_table(io.BytesIO(body), name)
        run = records_import(
            actor=manager,
            team=other_team,
            kind=kind,
            file=io.BytesIO(body),
            file_name=name,
            mapping=guess_mapping(kind, table.headers),
        )
        assert run.failed == 0, run.errors
        team_field = "pipeline__team" if model is Deal else "team"
        exported = model.objects.filter(**{team_field: team}).values_list(*fields)
        imported = model.objects.filter(**{team_field: other_team}).values_list(*fields)
        assert sorted(exported) == sorted(imported), kind


def test_import_records_command_imports_and_refuses_clearly(tmp_path, team, pipeline):
    path = tmp_path / "deals.csv"
    path.write_text("Deal,Pipeline,Stage,Amount\nRoof,Sales,Lead,10.50\n", encoding="utf-8")
    out = io.StringIO()
    call_command("import_records", "deals", str(path), "--team", "North", stdout=out)
    assert "1 created" in out.getvalue()
    assert Deal.objects.get().value_cents == 1_050
    bad = tmp_path / "bad.csv"
    bad.write_text("Deal,Pipeline,Stage,Amount\nRoof,Nope,Lead,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="0 created"):
        call_command("import_records", "deals", str(bad), "--team", "North", stderr=io.StringIO())
    errors = tmp_path / "errors.csv"
    call_command(
        "import_records",
        "deals",
        str(bad),
        "--team",
        "North",
        "--keep-valid",
        "--errors",
        str(errors),
        stdout=io.StringIO(),
    )
    assert "no pipeline of this name" in errors.read_text(encoding="utf-8-sig")
    with pytest.raises(CommandError, match="No team"):
        call_command("import_records", "deals", str(path), "--team", "Nowhere")
    with pytest.raises(CommandError, match="No column"):
        call_command("import_records", "deals", str(path), "--team", "North", "--map", "X=title")
