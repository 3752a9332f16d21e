"""The columns of the CRM's spreadsheets: what an export writes and an import reads, the same
for both, so a file exported from a filtered list imports back unchanged.

Each kind of record (contacts, organizations, deals) has its columns in order; an import
guesses which column of a file is which field from its header, in English and in the other
languages a cooperative's spreadsheets come in (French, German, Spanish), ignoring case,
accents, spaces and punctuation.
"""

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop

from coop.money import to_major_units
from crm.models import Contact, Deal, Organization


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # in English, marked for translation: exports write it in the reader's language
    synonyms: tuple[str, ...] = ()


CONTACT_COLUMNS = (
    Column(
        "name",
        gettext_noop("Name"),
        ("full name", "contact", "contact name", "nom", "nombre", "vorname"),
    ),
    Column(
        "email", gettext_noop("Email"), ("e-mail", "email address", "mail", "courriel", "correo")
    ),
    Column(
        "phone",
        gettext_noop("Phone"),
        ("telephone", "phone number", "mobile", "téléphone", "telefon"),
    ),
    Column(
        "organization",
        gettext_noop("Organization"),
        ("organisation", "company", "account", "société", "entreprise", "empresa", "firma"),
    ),
    Column(
        "job_title",
        gettext_noop("Job title"),
        ("title", "position", "role", "poste", "fonction", "cargo"),
    ),
    Column(
        "notes", gettext_noop("Notes"), ("note", "comments", "description", "remarques", "notizen")
    ),
)
ORGANIZATION_COLUMNS = (
    Column(
        "name",
        gettext_noop("Name"),
        ("organization", "company", "nom", "société", "empresa", "firma"),
    ),
    Column(
        "website",
        gettext_noop("Website"),
        ("web", "url", "site", "site web", "sitio web", "webseite"),
    ),
    Column("domain", gettext_noop("Domain"), ("domaine", "dominio", "domäne")),
    Column("phone", gettext_noop("Phone"), ("telephone", "téléphone", "telefon", "teléfono")),
    Column("address", gettext_noop("Address"), ("adresse", "dirección", "street")),
    Column("industry", gettext_noop("Industry"), ("sector", "secteur", "branche", "industrie")),
    Column(
        "size", gettext_noop("Size"), ("employees", "headcount", "taille", "effectif", "tamaño")
    ),
    Column(
        "notes", gettext_noop("Notes"), ("note", "comments", "description", "remarques", "notizen")
    ),
)
DEAL_COLUMNS = (
    Column(
        "title",
        gettext_noop("Title"),
        ("deal", "name", "opportunity", "titre", "affaire", "título"),
    ),
    Column("pipeline", gettext_noop("Pipeline"), ("pipeline name", "funnel", "entonnoir")),
    Column("stage", gettext_noop("Stage"), ("deal stage", "étape", "phase", "etapa")),
    Column("status", gettext_noop("Status"), ("statut", "estado")),
    Column(
        "value",
        gettext_noop("Value"),
        ("amount", "deal value", "montant", "valeur", "betrag", "importe"),
    ),
    Column("currency", gettext_noop("Currency"), ("devise", "währung", "moneda")),
    Column(
        "expected_close_date",
        gettext_noop("Expected close date"),
        ("close date", "closing date", "date de clôture", "fecha de cierre"),
    ),
    Column("contact_email", gettext_noop("Contact email"), ("email", "e-mail", "courriel")),
    Column("contact_name", gettext_noop("Contact name"), ("contact", "nom du contact")),
)
COLUMNS = {
    "contacts": CONTACT_COLUMNS,
    "organizations": ORGANIZATION_COLUMNS,
    "deals": DEAL_COLUMNS,
}


def header_key(text: str) -> str:
    """A header as compared: lower case, no accents, only letters and digits."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return "".join(char for char in text.lower() if char.isalnum())


def headers_key(headers: list[str]) -> str:
    """What identifies a file's header row when a mapping is remembered for it."""
    return hashlib.sha256("\x1f".join(headers).encode()).hexdigest()


def guess_mapping(kind: str, headers: list[str]) -> list[str]:
    """For each header, the field it most likely holds ("" for none): an exact field name or
    header first, then a synonym; each field is given to one column at most."""
    candidates: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for text in (column.field, column.header, gettext(column.header), *column.synonyms):
            candidates.setdefault(header_key(text), column.field)
    exact = {header_key(column.header): column.field for column in COLUMNS[kind]}
    exact |= {header_key(gettext(column.header)): column.field for column in COLUMNS[kind]}
    exact |= {header_key(column.field): column.field for column in COLUMNS[kind]}
    mapping, taken = [""] * len(headers), set()
    for lookup in (exact, candidates):
        for index, header in enumerate(headers):
            field = lookup.get(header_key(header))
            if not mapping[index] and field and field not in taken:
                mapping[index] = field
                taken.add(field)
    return mapping


def _contact_row(contact: Contact) -> list:
    organization = contact.organization.name if contact.organization else ""
    return [
        contact.name,
        contact.email,
        contact.phone,
        organization,
        contact.job_title,
        contact.notes,
    ]


def _organization_row(organization: Organization) -> list:
    return [getattr(organization, column.field) for column in ORGANIZATION_COLUMNS]


def _deal_row(deal: Deal) -> list:
    return [
        deal.title,
        deal.pipeline.name,
        deal.stage.name,
        deal.status,
        to_major_units(deal.value_cents, deal.currency),
        deal.currency,
        deal.expected_close_date.isoformat() if deal.expected_close_date else "",
        deal.contact.email if deal.contact else "",
        deal.contact.name if deal.contact else "",
    ]


ROW_OF = {"contacts": _contact_row, "organizations": _organization_row, "deals": _deal_row}
RELATED = {
    "contacts": ("organization",),
    "organizations": (),
    "deals": ("pipeline", "stage", "contact"),
}


def export_rows(kind: str, records: QuerySet) -> Iterator[list]:
    """The rows of the records, read in chunks (`.iterator()`) as they are written."""
    row_of = ROW_OF[kind]
    if RELATED[kind]:
        records = records.select_related(*RELATED[kind])
    for record in records.iterator(chunk_size=2_000):
        yield row_of(record)


def export_header(kind: str) -> list[str]:
    return [gettext(column.header) for column in COLUMNS[kind]]
