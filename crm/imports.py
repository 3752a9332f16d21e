"""Import of contacts, organizations and deals from CSV and XLSX files.

A file is read as a stream of rows (`read_table`): CSV in UTF-8 (a byte order mark is fine),
separated by commas, semicolons or tabs; XLSX through openpyxl's read-only mode, after the zip
is checked for a bomb. Hostile files are refused with a message that says what to fix: another
encoding, a cell over MAX_CELL characters, a header twice, a zip that would inflate beyond
XLSX_MAX_UNZIPPED, more than MAX_ROWS rows.

Each row is checked (`RowChecker`) and matched against the team's records and the file's
earlier rows: contacts by normalised email, then by a similar name (rapidfuzz) in the same
organization; organizations by domain, then by name; deals by title (case and spacing aside)
in the same pipeline with the same contact (or both without one). A match is skipped, has its
empty fields filled, or is overwritten, as the person chose for the file (a deal's value and
expected close date; a closed deal is never changed). A deal imported as won books its
revenue in finance (`crm.signals.won_deals_imported`), as closing one does. Writes go in
batches of BATCH_SIZE rows, so memory holds one batch and the match indexes (a few strings per
record of the team), whatever the file's length.
"""

import csv
import io
import secrets
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator, URLValidator
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from coop.audit import audit_record
from coop.models import AuditAction, Team, User
from coop.money import CURRENCY_CHOICES, minor_unit_exponent, to_minor_units
from coop.spreadsheets import csv_stream, unneutralise
from coop.validators import is_single_line
from coop.visibility import is_member, manages_team
from crm.activity_totals import activity_keys, activity_totals_refresh
from crm.exchange import COLUMNS
from crm.models import (
    Contact,
    Deal,
    DealStatus,
    ImportedRecord,
    ImportRun,
    ImportStatus,
    Interaction,
    Organization,
    OrganizationSize,
    Pipeline,
    StageChange,
    StageChangeKind,
    Task,
)
from crm.search import search_words_add
from crm.services import (
    organization_domain,
    stage_expected_values_refresh,
)
from crm.signals import imported_deals_removing, won_deals_imported

MAX_CELL = 100_000
MAX_ROWS = 200_000
XLSX_MAX_UNZIPPED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 200
# openpyxl's read-only mode streams the sheet but holds the workbook's whole shared strings
# table (each distinct text once) in memory: twice its unpacked size as Python strings, 4.4
# times while it is parsed (benchmarks/RESULTS.md). 100,000 rows of distinct names, emails and
# phones make 9.8 MiB of it; past 32 MiB the workbook is refused (save the sheet as CSV), so
# an XLSX import needs at most about 140 MiB more than a CSV import, for a moment.
XLSX_MAX_SHARED_STRINGS = 32 * 1024 * 1024
BATCH_SIZE = 1_000
NAME_SIMILARITY = 90  # rapidfuzz token_sort_ratio from which two names are one person
POLICIES = {
    "skip": _("Skip the row, keep the record as it is"),
    "fill": _("Fill the record's empty fields"),
    "overwrite": _("Overwrite the record's fields"),
}
DATE_FORMATS = {
    "%Y-%m-%d": "2026-12-31",
    "%d/%m/%Y": "31/12/2026",
    "%m/%d/%Y": "12/31/2026",
    "%d.%m.%Y": "31.12.2026",
}
MAX_LENGTHS = {
    "name": 200,
    "email": 254,
    "phone": 40,
    "organization": 200,
    "job_title": 150,
    "website": 200,
    "domain": 253,
    "industry": 120,
    "title": 200,
}
MULTILINE = {"notes", "address"}

NOT_UTF8 = _(
    "This file is not UTF-8 text. Save it as “CSV UTF-8” in your spreadsheet program and "
    "upload it again."
)

csv.field_size_limit(MAX_CELL)


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[list[str]]  # each padded or cut to the headers' length


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="file")


def _check_headers(headers: list[str]) -> list[str]:
    headers = [unneutralise(str(header or "").strip()) for header in headers]
    if not any(headers):
        raise _refuse(
            gettext("The first row must name the columns; this file's first row is empty.")
        )
    seen: set[str] = set()
    for header in filter(None, headers):
        if header.casefold() in seen:
            raise _refuse(
                gettext("The column “%(header)s” appears twice: rename or delete one.")
                % {"header": header}
            )
        seen.add(header.casefold())
    return headers


def _fit(cells: list[str], width: int) -> list[str]:
    return (cells + [""] * width)[:width]


def _csv_table(file: BinaryIO) -> Table:
    start = file.read(64 * 1024)
    file.seek(0)
    try:
        sample = start.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # A long file's sample may end inside a character: only that is not an error.
        if error.start < len(start) - 3 or len(start) < 64 * 1024:
            raise _refuse(str(NOT_UTF8)) from error
        sample = start[: error.start].decode("utf-8-sig")
    first_line = sample.splitlines()[0] if sample else ""
    delimiter = max([",", ";", "\t"], key=first_line.count)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        headers = _check_headers(next(reader, []))
    except UnicodeDecodeError as error:
        raise _refuse(str(NOT_UTF8)) from error
    except csv.Error as error:
        raise _refuse(
            gettext("The header row cannot be read: %(error)s.") % {"error": error}
        ) from error

    def rows() -> Iterator[list[str]]:
        try:
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    yield _fit(cells, len(headers))
            # The caller's file stays open (a dropped wrapper would close it).
            text.detach()
        except csv.Error as error:
            raise _refuse(
                gettext(
                    "Row %(row)s cannot be read (%(error)s); no cell may be longer than "
                    "%(count)s characters."
                )
                % {"row": reader.line_num, "error": error, "count": f"{MAX_CELL:,}"}
            ) from error
        except UnicodeDecodeError as error:
            raise _refuse(
                gettext("Row %(row)s is not UTF-8 text: save the file as “CSV UTF-8”.")
                % {"row": reader.line_num}
            ) from error

    return Table(headers, rows())


def _xlsx_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_table(file: BinaryIO) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as error:
        raise _refuse(gettext("This file is not an XLSX workbook (or it is damaged).")) from error
    unzipped = sum(member.file_size for member in members)
    packed = max(sum(member.compress_size for member in members), 1)
    if unzipped > XLSX_MAX_UNZIPPED or unzipped / packed > XLSX_MAX_RATIO:
        raise _refuse(
            gettext(
                "This workbook unpacks to far more data than it holds (a “zip bomb”); "
                "save its sheet as CSV and upload that instead."
            )
        )
    strings = sum(
        member.file_size
        for member in members
        if member.filename.casefold().endswith("sharedstrings.xml")
    )
    if strings > XLSX_MAX_SHARED_STRINGS:
        raise _refuse(
            gettext(
                "This workbook holds over %(size)s MB of distinct texts, more than an XLSX "
                "import reads at once; save its sheet as CSV and upload that."
            )
            % {"size": XLSX_MAX_SHARED_STRINGS // 2**20}
        )
    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        values = sheet.iter_rows(values_only=True)
        headers = _check_headers([_xlsx_cell(value) for value in next(values, ())])
    except ValidationError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        raise _refuse(
            gettext("This workbook cannot be read (%(error)s).") % {"error": type(error).__name__}
        ) from error

    def rows() -> Iterator[list[str]]:
        for number, row in enumerate(values, start=2):
            cells = [_xlsx_cell(value) for value in row]
            if any(len(cell) > MAX_CELL for cell in cells):
                raise _refuse(
                    gettext("Row %(row)s has a cell longer than %(count)s characters.")
                    % {"row": number, "count": f"{MAX_CELL:,}"}
                )
            if any(cell.strip() for cell in cells):
                yield _fit(cells, len(headers))
        workbook.close()

    return Table(headers, rows())


def read_table(file: BinaryIO, file_name: str) -> Table:
    """The file's header row and a stream of its non-empty rows; `ValidationError` with a
    message for the person when the file cannot be imported."""
    if file_name.lower().endswith(".xlsx"):
        return _xlsx_table(file)
    if file_name.lower().endswith((".csv", ".txt", ".tsv")):
        return _csv_table(file)
    raise _refuse(gettext("Upload a .csv or an .xlsx file."))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_name(name: str) -> str:
    return " ".join(name.casefold().split())


# --- checking a row ------------------------------------------------------------------------


@dataclass
class CheckedRow:
    number: int  # in the file, the header being row 1
    cells: list[str]
    values: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # field -> message

    @property
    def reason(self) -> str:
        return "; ".join(f"{name}: {message}" for name, message in self.errors.items())


_email_validator = EmailValidator()
_url_validator = URLValidator()


class RowChecker:
    """Turns a row's cells into field values, or per-field errors, for one kind of record."""

    def __init__(self, *, kind: str, team, mapping: list[str], date_format: str) -> None:
        known = {column.field for column in COLUMNS[kind]}
        if unknown := set(filter(None, mapping)) - known:
            raise _refuse(
                gettext("Unknown fields in the mapping: %(fields)s.")
                % {"fields": ", ".join(sorted(unknown))}
            )
        if date_format not in DATE_FORMATS:
            raise _refuse(gettext("Choose one of the date formats offered."))
        self.kind, self.team, self.mapping, self.date_format = kind, team, mapping, date_format
        if kind == "deals":
            self.pipelines = {
                pipeline.name.casefold(): pipeline
                for pipeline in Pipeline.objects.filter(team=team).prefetch_related("stages")
            }

    def check(self, number: int, cells: list[str]) -> CheckedRow:
        row = CheckedRow(number, cells)
        raw = {
            name: unneutralise(cell.strip() if name not in MULTILINE else cell)
            for name, cell in zip(self.mapping, cells, strict=True)
            if name
        }
        for name, value in raw.items():
            if name not in MULTILINE and not is_single_line(value):
                row.errors[name] = gettext("must be one line without control characters")
            elif len(value) > MAX_LENGTHS.get(name, MAX_CELL):
                row.errors[name] = gettext("at most %(count)s characters") % {
                    "count": MAX_LENGTHS[name]
                }
            else:
                row.values[name] = value
        getattr(self, f"_check_{self.kind}")(row)
        return row

    def _require(self, row: CheckedRow, name: str) -> None:
        if not row.values.get(name) and name not in row.errors:
            row.errors[name] = gettext("required")

    def _check_contacts(self, row: CheckedRow) -> None:
        self._require(row, "name")
        if email := row.values.get("email"):
            try:
                _email_validator(email)
                row.values["email"] = normalise_email(email)
            except ValidationError:
                row.errors["email"] = gettext("not an email address")

    def _check_organizations(self, row: CheckedRow) -> None:
        self._require(row, "name")
        if website := row.values.get("website"):
            if "//" not in website:
                website = row.values["website"] = f"https://{website}"
            try:
                _url_validator(website)
            except ValidationError:
                row.errors["website"] = gettext("not a web address")
        row.values["domain"] = organization_domain(
            row.values.get("domain") or row.values.get("website", "")
        )
        size = row.values.get("size", "")
        if size and size not in OrganizationSize.values:
            labels = {label.casefold(): value for value, label in OrganizationSize.choices}
            if size.casefold() in labels:
                row.values["size"] = labels[size.casefold()]
            else:
                row.errors["size"] = gettext("one of %(values)s") % {
                    "values": ", ".join(OrganizationSize.values)
                }

    def _check_deals(self, row: CheckedRow) -> None:
        values, errors = row.values, row.errors
        self._require(row, "title")
        pipeline = self.pipelines.get(values.get("pipeline", "").casefold())
        if pipeline is None:
            errors["pipeline"] = gettext("no pipeline of this name in the team")
        status = (values.get("status") or DealStatus.OPEN).casefold()
        if status not in DealStatus.values:
            errors["status"] = gettext("open, won or lost")
        values["status"] = status
        currency = (values.get("currency") or (pipeline.currency if pipeline else "")).upper()
        if currency not in dict(CURRENCY_CHOICES):
            errors["currency"] = gettext("not an ISO 4217 code this CRM keeps")
        elif pipeline is not None and currency != pipeline.currency:
            errors["currency"] = gettext("the pipeline counts in %(currency)s") % {
                "currency": pipeline.currency
            }
        values["currency"] = currency
        if pipeline is not None:
            stages = {stage.name.casefold(): stage for stage in pipeline.stages.all()}
            stage = stages.get(values.get("stage", "").casefold())
            if stage is None:
                errors["stage"] = gettext("no stage of this name in %(pipeline)s") % {
                    "pipeline": pipeline.name
                }
            elif (status == DealStatus.OPEN and stage.is_closing) or (
                (stage.is_won and status == DealStatus.LOST)
                or (stage.is_lost and status == DealStatus.WON)
            ):
                errors["stage"] = {
                    DealStatus.OPEN: gettext("an open deal cannot be in this stage"),
                    DealStatus.WON: gettext("a won deal cannot be in this stage"),
                }.get(status, gettext("a lost deal cannot be in this stage"))
            values["pipeline"], values["stage"] = pipeline, stage
        self._check_amount(row, currency)
        if text := values.get("expected_close_date"):
            try:
                values["expected_close_date"] = datetime.strptime(text, self.date_format).date()
            except ValueError:
                errors["expected_close_date"] = gettext("not a date like %(example)s") % {
                    "example": DATE_FORMATS[self.date_format]
                }
        else:
            values["expected_close_date"] = None

    def _check_amount(self, row: CheckedRow, currency: str) -> None:
        text = row.values.get("value", "").replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            amount = Decimal(text or "0")
        except InvalidOperation:
            row.errors["value"] = gettext("not an amount")
            return
        if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 15:
            row.errors["value"] = gettext("an amount from 0 to 999,999,999,999,999")
        elif currency in dict(CURRENCY_CHOICES):
            if amount.as_tuple().exponent < -minor_unit_exponent(currency):
                row.errors["value"] = gettext("at most %(count)s decimals") % {
                    "count": minor_unit_exponent(currency)
                }
            else:
                row.values["value_cents"] = to_minor_units(amount, currency)


# --- matching ------------------------------------------------------------------------------


class Matcher:
    """Finds the record a checked row stands for: among the team's records, or those the
    file's earlier rows created. Holds a few strings per record of the team."""

    def __init__(self, kind: str, team) -> None:
        self.kind = kind
        self.by_key: dict[str, object] = {}  # email or domain -> id
        self.by_name: dict[str, object] = {}  # organization name -> id
        self.names: dict[str, list[tuple[str, object]]] = {}  # organization -> [(name, id)]
        if kind == "contacts":
            rows = Contact.objects.filter(team=team).values_list(
                "pk", "email", "name", "organization__name"
            )
            for pk, email, name, organization in rows.iterator(chunk_size=5_000):
                self.add(pk, email, name, organization or "")
        elif kind == "organizations":
            rows = Organization.objects.filter(team=team).values_list("pk", "domain", "name")
            for pk, domain, name in rows.iterator(chunk_size=5_000):
                self.add(pk, domain, name, "")
        else:
            self.contacts: dict[str, object] = {}  # "email:..." / "name:..." -> contact id
            rows = Contact.objects.filter(team=team).values_list("pk", "email", "name")
            for pk, email, name in rows.order_by("-created_at").iterator(chunk_size=5_000):
                self.contacts[f"name:{name}"] = pk
                if email:
                    self.contacts[f"email:{normalise_email(email)}"] = pk
            deals = Deal.objects.filter(pipeline__team=team).values_list(
                "pk", "pipeline_id", "contact_id", "title"
            )
            for pk, pipeline_id, contact_id, title in deals.iterator(chunk_size=5_000):
                self.add(pk, deal_key(pipeline_id, contact_id, title), "", "")

    def add(self, pk, key: str, name: str, organization: str) -> None:
        if key:
            self.by_key.setdefault(normalise_email(key), pk)
        if self.kind == "organizations":
            self.by_name.setdefault(normalise_name(name), pk)
        elif self.kind == "contacts":
            self.names.setdefault(normalise_name(organization), []).append(
                (normalise_name(name), pk)
            )

    def contact_id(self, values: dict):
        """The team's contact a deal row names, by email, else by exact name (deals only)."""
        if email := normalise_email(values.get("contact_email", "")):
            return self.contacts.get(f"email:{email}")
        return self.contacts.get(f"name:{values.get('contact_name', '')}")

    def deal_key(self, values: dict) -> str:
        return deal_key(values["pipeline"].pk, self.contact_id(values), values.get("title", ""))

    def find(self, values: dict):
        if self.kind == "deals":
            return self.by_key.get(normalise_email(self.deal_key(values)))
        key = values.get("email" if self.kind == "contacts" else "domain", "")
        if key and (pk := self.by_key.get(normalise_email(key))):
            return pk
        name = normalise_name(values.get("name", ""))
        if self.kind == "organizations":
            return self.by_name.get(name)
        if key:
            # A different email address is a different person, however alike the names.
            return None
        for other, pk in self.names.get(normalise_name(values.get("organization", "")), []):
            if fuzz.token_sort_ratio(name, other) >= NAME_SIMILARITY:
                return pk
        return None


def deal_key(pipeline_id, contact_id, title: str) -> str:
    """What makes two deals one: the pipeline, the contact (or none) and the title."""
    return f"{pipeline_id}|{contact_id or ''}|{normalise_name(title)}"


def check_rows(
    *, table: Table, checker: RowChecker, limit: int | None = None
) -> Iterator[CheckedRow]:
    for number, cells in enumerate(table.rows, start=2):
        if number - 1 > MAX_ROWS:
            raise _refuse(
                gettext("A file holds at most %(count)s rows; split this one.")
                % {"count": f"{MAX_ROWS:,}"}
            )
        if limit is not None and number - 1 > limit:
            return
        yield checker.check(number, cells)


ProgressCallback = Callable[[int], None]  # called with the rows read so far


# --- writing -------------------------------------------------------------------------------

CONTACT_WRITE_FIELDS = ("name", "email", "phone", "job_title", "notes")
ORGANIZATION_WRITE_FIELDS = tuple(column.field for column in COLUMNS["organizations"])
# What a matched deal takes from the file: its stage and status stay (moving or closing a
# deal has services of its own), and a closed deal keeps everything.
DEAL_WRITE_FIELDS = ("value_cents", "expected_close_date")
MODELS = {"contact": Contact, "organization": Organization, "deal": Deal}


class _Refused(Exception):
    """Rolls an all-or-nothing import back when a row was refused."""


@dataclass
class _Run:
    """What an import did so far."""

    run: ImportRun
    policy: str
    matcher: Matcher
    organizations: dict[str, object]  # normalised name -> id (contacts only)
    created_ids: set = field(default_factory=set)
    records: list[ImportedRecord] = field(default_factory=list)


def _owner_for(actor: User | None, team: Team) -> User | None:
    return actor if actor is not None and is_member(actor, team.pk) else None


def _apply_policy(record, values: dict, fields: tuple[str, ...], policy: str) -> dict:
    """Set the row's non-empty values on the record as the policy says; the old values of the
    fields it changed."""
    before = {}
    for name in fields:
        new = values.get(name)
        if new in (None, "") or getattr(record, name) == new:
            continue
        if policy == "fill" and getattr(record, name) not in ("", None):
            continue
        before[name] = getattr(record, name)
        setattr(record, name, new)
    return before


def _organization_id(state: _Run, team: Team, name: str, pending: list) -> object | None:
    if not name:
        return None
    key = normalise_name(name)
    if key not in state.organizations:
        organization = Organization(team=team, name=name)
        pending.append(organization)
        state.organizations[key] = organization.pk
    return state.organizations[key]


def _write_batch(state: _Run, team: Team, actor: User | None, rows: list[CheckedRow]) -> None:
    kind, run = state.run.kind, state.run
    model_name = {"contacts": "contact", "organizations": "organization", "deals": "deal"}[kind]
    model = MODELS[model_name]
    fields = {
        "contacts": CONTACT_WRITE_FIELDS,
        "organizations": ORGANIZATION_WRITE_FIELDS,
        "deals": DEAL_WRITE_FIELDS,
    }[kind]
    new_organizations: list[Organization] = []
    creating: dict = {}
    changes: dict = {}  # pk -> (values, organization id)
    owner = _owner_for(actor, team)
    for row in rows:
        values = row.values
        organization_id = None
        if kind == "contacts":
            organization_id = _organization_id(
                state, team, values.get("organization", ""), new_organizations
            )
        pk = state.matcher.find(values)
        if pk is None:
            if kind == "deals":
                record = _new_deal(state, team, owner, values)
            elif kind == "contacts":
                record = Contact(
                    team=team,
                    owner=owner,
                    organization_id=organization_id,
                    **{name: values.get(name, "") for name in fields},
                )
            else:
                record = Organization(team=team, **{name: values.get(name, "") for name in fields})
            creating[record.pk] = record
            state.created_ids.add(record.pk)
            if kind == "deals":
                key = state.matcher.deal_key(values)
            else:
                key = values.get("email" if kind == "contacts" else "domain", "")
            state.matcher.add(
                record.pk, key, values.get("name", ""), values.get("organization", "")
            )
            run.created += 1
        elif state.policy == "skip":
            run.skipped += 1
        elif pk in creating:
            _apply_policy(creating[pk], values, fields, state.policy)
            run.skipped += 1
        else:
            changes.setdefault(pk, []).append((values, organization_id))
    Organization.objects.bulk_create(new_organizations, batch_size=BATCH_SIZE)
    state.records += [
        ImportedRecord(run=run, model="organization", object_id=organization.pk)
        for organization in new_organizations
    ]
    model.objects.bulk_create(creating.values(), batch_size=BATCH_SIZE)
    # Bulk rows send no signals: their words join the search's dictionary here.
    search_words_add(
        [organization.name for organization in new_organizations]
        + [getattr(row, "title", None) or getattr(row, "name", "") for row in creating.values()]
    )
    state.records += [ImportedRecord(run=run, model=model_name, object_id=pk) for pk in creating]
    if kind == "deals" and creating:
        _history_begins(list(creating.values()), actor)
    if won := [deal for deal in creating.values() if kind == "deals" and deal.status == "won"]:
        won_deals_imported.send(sender=Deal, deals=won)
    _update_matches(state, model, model_name, fields, changes)
    ImportedRecord.objects.bulk_create(state.records, batch_size=BATCH_SIZE)
    state.records = []


def _update_matches(state: _Run, model, model_name: str, fields, changes: dict) -> None:
    changed = []
    for record in model.objects.select_for_update(no_key=True).filter(pk__in=list(changes)):
        if model is Deal and record.status != DealStatus.OPEN:
            state.run.skipped += len(changes[record.pk])
            continue
        before = {}
        for values, organization_id in changes[record.pk]:
            before |= {
                name: value
                for name, value in _apply_policy(record, values, fields, state.policy).items()
                if name not in before
            }
            if (
                organization_id
                and model is Contact
                and (state.policy == "overwrite" or record.organization_id is None)
                and record.organization_id != organization_id
            ):
                before.setdefault("organization_id", record.organization_id)
                record.organization_id = organization_id
        if not before:
            state.run.skipped += 1
            continue
        changed.append(record)
        state.run.updated += 1
        if record.pk not in state.created_ids:
            state.records.append(
                ImportedRecord(
                    run=state.run,
                    model=model_name,
                    object_id=record.pk,
                    before={name: _json(value) for name, value in before.items()},
                )
            )
    if changed:
        names = sorted({name for record in changed for name in (*fields, "updated_at")})
        if model is Contact:
            names.append("organization_id")
        for record in changed:
            record.updated_at = timezone.now()
        model.objects.bulk_update(changed, names, batch_size=BATCH_SIZE)


def _json(value):
    return str(value) if value is not None and not isinstance(value, str) else value


def _new_deal(state: _Run, team: Team, owner: User | None, values: dict) -> Deal:
    status = values["status"]
    return Deal(
        pipeline=values["pipeline"],
        stage=values["stage"],
        contact_id=state.matcher.contact_id(values),
        owner=owner,
        title=values["title"],
        value_cents=values.get("value_cents", 0),
        currency=values["currency"],
        expected_close_date=values["expected_close_date"],
        status=status,
        closed_at=None if status == DealStatus.OPEN else timezone.now(),
    )


def _history_begins(deals: list[Deal], actor: User | None) -> None:
    """Each new deal's stage history begins at its import: a "created" change into the stage
    it was imported in, as `deal_create` records. What happened before the import is unknown,
    so a deal imported closed gets no close of its own in the history (win/loss counts it by
    its closing time; the funnel and velocity start from its import). Each change is written
    with its report columns already right (the deal's pipeline; no later change, so no
    `left_at`), so `stage_history_refresh` has nothing to correct here."""
    StageChange.objects.bulk_create(
        [
            StageChange(
                deal=deal,
                pipeline_id=deal.pipeline_id,
                kind=StageChangeKind.CREATED,
                to_stage_id=deal.stage_id,
                to_stage_name=deal.stage.name,
                changed_at=deal.stage_entered_at,
                changed_by=actor,
            )
            for deal in deals
        ],
        batch_size=BATCH_SIZE,
    )


def _batches(rows: Iterator[CheckedRow]) -> Iterator[list[CheckedRow]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def records_import(
    *,
    actor: User | None,
    team: Team,
    kind: str,
    file: BinaryIO,
    file_name: str,
    mapping: list[str],
    policy: str = "skip",
    all_or_nothing: bool = True,
    date_format: str = "%Y-%m-%d",
    on_progress: ProgressCallback | None = None,
    run: ImportRun | None = None,
) -> ImportRun:
    """Import the file's rows into the team, in one outermost transaction, and record the
    import (`ImportRun`) and its audit entry.

    All or nothing (the default): one refused row and nothing is written but the import's
    record, status "refused", with every refused row and its reason. Otherwise the valid rows
    are written and the refused ones kept for the error file. `actor` None is an operator's
    `manage.py import_records`; a person must manage the team. `run`: the record
    `import_queue` made for a background import, completed here."""
    if actor is not None and not manages_team(actor, team.pk):
        raise ValidationError(gettext("Only the team's managers can import into it."))
    if policy not in POLICIES:
        raise _refuse(
            gettext("Choose what to do with matches: %(policies)s.")
            % {"policies": ", ".join(POLICIES)}
        )
    table = read_table(file, file_name)
    if len(mapping) != len(table.headers):
        raise _refuse(
            gettext("The mapping does not fit the file's columns; start the import again.")
        )
    checker = RowChecker(kind=kind, team=team, mapping=mapping, date_format=date_format)
    if run is None:
        run = ImportRun(team=team, actor=actor, kind=kind, file_name=file_name[:255])
    run.status = ImportStatus.IMPORTED
    try:
        with transaction.atomic(durable=True):
            if run._state.adding:
                # A queued run's row is left alone until the rows are written: its progress
                # is being updated from another connection (`ProgressWriter`).
                run.save()
            _import_rows(run, team, actor, table, checker, policy, all_or_nothing, on_progress)
    except _Refused:
        run.status = ImportStatus.REFUSED
        run.created = run.updated = run.skipped = 0
        if not ImportRun.objects.filter(pk=run.pk).exists():
            run.pk = uuid.uuid4()
            run._state.adding = True
    with transaction.atomic():
        run.finished_at = timezone.now()
        run.save()
        audit_record(
            actor=actor,
            action=AuditAction.IMPORTED,
            obj=run,
            detail={
                "file": run.file_name,
                "status": run.status,
                **{name: getattr(run, name) for name in COUNTS},
            },
        )
    return run


COUNTS = ("rows", "created", "updated", "skipped", "failed")


def _import_rows(run, team, actor, table, checker, policy, all_or_nothing, on_progress) -> None:
    if run.kind == "organizations":
        organizations = {}
    else:
        organizations = {
            normalise_name(name): pk
            for pk, name in Organization.objects.filter(team=team).values_list("pk", "name")
        }
    state = _Run(
        run=run, policy=policy, matcher=Matcher(run.kind, team), organizations=organizations
    )
    pipelines = set()
    for batch in _batches(check_rows(table=table, checker=checker)):
        valid = []
        for row in batch:
            run.rows += 1
            if row.errors:
                run.failed += 1
                run.errors.append({"row": row.number, "cells": row.cells, "reason": row.reason})
            else:
                valid.append(row)
                if run.kind == "deals":
                    pipelines.add(row.values["pipeline"].pk)
        if not (all_or_nothing and run.failed):
            _write_batch(state, team, actor, valid)
        if on_progress is not None:
            on_progress(run.rows)
    if all_or_nothing and run.failed:
        raise _Refused
    for pipeline_id in pipelines:
        stage_expected_values_refresh(pipeline_id=pipeline_id)
    run.finished_at = timezone.now()
    run.save()


def error_file(run: ImportRun) -> Iterator[bytes]:
    """The refused rows as CSV: the row number, the reason, then the row as it was."""
    return csv_stream(
        [
            [gettext("Row"), gettext("Reason")],
            *([error["row"], error["reason"], *error["cells"]] for error in run.errors),
        ]
    )


@transaction.atomic(durable=True)
def import_undo(*, actor: User | None, run: ImportRun) -> ImportRun:
    """Remove what the import created and put back what it changed, in one outermost
    transaction, if none of its records changed since (and no record of another origin
    points at one it created); `ValidationError` naming one that did otherwise."""
    return _import_undo(actor=actor, run=run)


def _import_undo(*, actor: User | None, run: ImportRun) -> ImportRun:
    """`import_undo`, inside the caller's transaction."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    _check_undoable(actor, run, (ImportStatus.IMPORTED, ImportStatus.UNDOING))
    entries = list(run.records.all())
    ids = {name: [e.object_id for e in entries if e.model == name] for name in MODELS}
    for name, model in MODELS.items():
        changed = (
            model.objects.filter(pk__in=ids[name], updated_at__gt=run.finished_at)
            .values_list(*("title" if model is Deal else "name",))
            .first()
        )
        if changed:
            raise ValidationError(
                gettext("%(record)s was changed after the import, which can no longer be undone.")
                % {"record": changed[0]}
            )
    created = {
        name: [e.object_id for e in entries if e.model == name and e.before is None]
        for name in MODELS
    }
    blockers = (
        Deal.objects.filter(contact_id__in=created["contact"]).exclude(pk__in=created["deal"]),
        Contact.objects.filter(organization_id__in=created["organization"]).exclude(
            pk__in=created["contact"]
        ),
    )
    if Interaction.objects.filter(contact_id__in=created["contact"]).exists() or any(
        blocker.exists() for blocker in blockers
    ):
        raise ValidationError(
            gettext(
                "Records added since point at what this import created: it can no longer be undone."
            )
        )
    for entry in entries:
        if entry.before is not None:
            MODELS[entry.model].objects.filter(pk=entry.object_id).update(**entry.before)
    pipelines = set(
        Deal.objects.filter(pk__in=created["deal"]).values_list("pipeline_id", flat=True)
    )
    if created["deal"]:
        imported_deals_removing.send(sender=Deal, deal_ids=created["deal"])
    counted = activity_keys(
        interactions=Interaction.objects.filter(contact__in=created["contact"]),
        tasks=Task.objects.filter(
            Q(deal__in=created["deal"])
            | Q(contact__in=created["contact"])
            | Q(organization__in=created["organization"])
        ),
    )
    Deal.objects.filter(pk__in=created["deal"]).delete()
    Contact.objects.filter(pk__in=created["contact"]).delete()
    Organization.objects.filter(pk__in=created["organization"]).delete()
    activity_totals_refresh(counted)
    for pipeline_id in pipelines:
        stage_expected_values_refresh(pipeline_id=pipeline_id)
    run.status, run.undo_error = ImportStatus.UNDONE, ""
    run.save(update_fields=["status", "undo_error"])
    audit_record(actor=actor, action=AuditAction.IMPORT_UNDONE, obj=run)
    return run


def _check_undoable(actor: User | None, run: ImportRun, statuses: tuple) -> None:
    if actor is not None and not manages_team(actor, run.team_id):
        raise ValidationError(gettext("Only the team's managers can undo its imports."))
    if run.status not in statuses or run.finished_at is None:
        raise ValidationError(gettext("Only a completed import can be undone."))


# An undo of more records than this runs as a background task (`crm.tasks.import_undo_task`).
UNDO_INLINE_RECORDS = 5_000


@transaction.atomic(durable=True)
def import_undo_start(*, actor: User | None, run: ImportRun) -> ImportRun:
    """Undo the import now when it wrote at most UNDO_INLINE_RECORDS records; otherwise mark
    it "undoing" and queue `crm.tasks.import_undo_task` once that commits (the task runs
    `import_undo`, or puts the import back to "imported" with the reason it could not).
    Locks the import's row, so two clicks queue one undo."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    _check_undoable(actor, run, (ImportStatus.IMPORTED,))
    if run.records.count() <= UNDO_INLINE_RECORDS:
        return _import_undo(actor=actor, run=run)
    from crm.tasks import import_undo_task

    run.status, run.undo_error = ImportStatus.UNDOING, ""
    run.save(update_fields=["status", "undo_error"])
    actor_id = str(actor.pk) if actor is not None else None
    transaction.on_commit(lambda: import_undo_task.enqueue(run_id=str(run.pk), actor_id=actor_id))
    return run


class ProgressWriter:
    """Writes a background import's progress on its `ImportRun` row as it goes, for the
    progress bar of the import page, with no shared cache needed.

    The import is one transaction (all or nothing), so nothing it writes is seen by others
    before it ends. The progress therefore goes through a database connection of its own, in
    autocommit: each update is committed at once and any web process reads it from the row.
    It cannot wait on the import: while the rows are written, the import's transaction does
    not update its run's row (it only inserts `ImportedRecord`s pointing at it, whose KEY
    SHARE locks let an UPDATE of other columns through), and it writes its counts there only
    once the last progress is written. On SQLite (one machine's development database, where a
    second writer waits for the first one's transaction) nothing is written: the page shows
    the import running, without figures."""

    def __init__(self, run: ImportRun, size: int) -> None:
        self.run_id, self.size = run.pk, max(size, 1)
        self.connection = connection.copy() if connection.vendor == "postgresql" else None

    def __call__(self, rows: int, position: int) -> None:
        if self.connection is None:
            return
        percent = min(position * 100 // self.size, 99)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportRun._meta.db_table} SET progress_rows = %s, "  # noqa: S608
                "progress_percent = %s WHERE id = %s",
                [rows, percent, self.run_id],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


# --- the uploaded file, kept between requests and for the worker ----------------------------

UPLOADS = "imports"
ABANDONED_AFTER = timedelta(days=1)


def upload_store(upload: File) -> str:
    """Keep an uploaded file in the default storage (MEDIA_ROOT/imports/, the place every web
    process and worker shares) under a random name, and sweep the uploads left over a day
    by imports never started; the stored file's name."""
    stale = timezone.now() - ABANDONED_AFTER
    queued = set(ImportRun.objects.exclude(file="").values_list("file", flat=True))
    if default_storage.exists(UPLOADS):
        for name in default_storage.listdir(UPLOADS)[1]:
            path = f"{UPLOADS}/{name}"
            if path not in queued and default_storage.get_modified_time(path) < stale:
                default_storage.delete(path)
    return default_storage.save(f"{UPLOADS}/{secrets.token_urlsafe(24)}", upload)


def upload_delete(name: str) -> None:
    if name:
        default_storage.delete(name)


def import_queue(
    *, actor: User, team: Team, kind: str, stored_name: str, file_name: str, options: dict
) -> ImportRun:
    """Record an import to run in the background (`crm.tasks.import_file`), enqueued once this
    record commits; the task reads the file stored as `stored_name` (`upload_store`) and
    deletes it. `options`: the arguments `records_import` takes after the file (mapping,
    policy, ...)."""
    if not manages_team(actor, team.pk):
        raise ValidationError(gettext("Only the team's managers can import into it."))
    from crm.tasks import import_file

    run = ImportRun(
        team=team, actor=actor, kind=kind, file_name=file_name[:255], status=ImportStatus.RUNNING
    )
    run.file.name = stored_name
    run.save(force_insert=True)
    transaction.on_commit(lambda: import_file.enqueue(run_id=str(run.pk), options=options))
    return run
