"""One search across the CRM's records, for the top bar: each kind of record (contacts,
organizations, deals, tasks, and whatever a module registers) answers through a *provider*, within
the visibility rule, and the results come back grouped by kind, best match first.

Ranking: the records whose name (or other searched field) contains the query, whatever the
case, come first: those whose name starts with it, then shorter names (the closer match),
then alphabetically. On PostgreSQL the match is an ILIKE served by trigram GIN indexes
(`pg_trgm`, created in the CRM's migrations). SQLite has no trigrams: the substring match
alone.

A typo ("solr roof"): when no record of any kind contains the query, on PostgreSQL each of
its words is replaced by the most similar word of the searched names and titles (the
`SearchWord` dictionary, by trigram similarity) and the corrected query ("solar roof") is
searched the same way. The dictionary holds thousands of distinct words where the records
hold 150,000 titles: the first version compared the query with every record sharing a
trigram with it (all 18,700 "Solar roof" deals), 0.9 s; the dictionary answers in
milliseconds. Words are added when a contact, organization, deal or task is saved (a
receiver) and by `search_words_refresh` after bulk writes (the migration, the demo data,
imports).

Measured at 150,000 deals (benchmarks/search.py): ranking every match made a broad query
("solar", 18,700 deals) read every matching row; so on PostgreSQL only the first CANDIDATES
rows that start with the query and the first that contain it are ranked (by prefix, then
length).

A module above the CRM adds a kind by registering a provider in its `AppConfig.ready()`:
`search_provider_register(SearchProvider(kind="quotes", label="Quotes", order=50, find=...))`;
`find(user, query, limit)` returns at most `limit` `SearchHit`s the user may see, best first.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, F, Lookup, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coop.models import User
from crm.models import Contact, Deal, Organization, SearchWord, Task
from crm.next_steps import record_url

# Fewer characters match too much to be useful, and trigrams need three.
QUERY_MIN = 2
QUERY_MAX = 100
HITS_PER_KIND = 5
# How many of the records that start with the query, and of those that contain it, are ranked.
CANDIDATES = 200


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class SearchProvider:
    kind: str
    label: str
    # find(user, query, limit): at most `limit` hits the user may see, best first.
    find: Callable[[User, str, int], list[SearchHit]]
    order: int = 100


@dataclass
class SearchGroup:
    kind: str
    label: str
    hits: list[SearchHit] = field(default_factory=list)


_PROVIDERS: dict[str, SearchProvider] = {}


def search_provider_register(provider: SearchProvider) -> None:
    """Add (or replace) the provider of one kind of record."""
    _PROVIDERS[provider.kind] = provider


def search_providers() -> list[SearchProvider]:
    return sorted(_PROVIDERS.values(), key=lambda provider: (provider.order, provider.kind))


def search_query_clean(text: str) -> str:
    """The query as searched: spaces collapsed, at most QUERY_MAX characters, without NUL
    (which PostgreSQL refuses in text)."""
    return " ".join(text.replace("\x00", " ").split())[:QUERY_MAX]


def search_everything(*, user: User, query: str, limit: int = HITS_PER_KIND) -> list[SearchGroup]:
    """The groups, in provider order, that have hits for `query` (each at most `limit`, best
    first); none for a query shorter than QUERY_MIN. Records that contain the query; when
    no provider has any (PostgreSQL), those that contain its correction. One query per
    provider; when nothing contains the query, one more and again one per provider,
    whatever the number of records."""
    query = search_query_clean(query)
    if len(query) < QUERY_MIN:
        return []
    groups = _found(user, query, limit)
    if not groups and connection.vendor == "postgresql":
        corrected = corrected_query(query)
        if corrected != query:
            groups = _found(user, corrected, limit)
    return groups


def _found(user: User, query: str, limit: int) -> list[SearchGroup]:
    groups = [
        SearchGroup(provider.kind, provider.label, provider.find(user, query, limit))
        for provider in search_providers()
    ]
    return [group for group in groups if group.hits]


# The words of a name or title that the dictionary holds: letters only, 3 to 60 of them.
WORD = re.compile(r"[^\W\d_]{3,60}")
# Every word of the searched names and titles (the same as WORD, near enough: letters only).
SEARCH_WORDS_REFRESH = """
INSERT INTO crm_search_words (word)
SELECT DISTINCT word FROM (
    SELECT regexp_split_to_table(lower(text), '[^[:alpha:]]+') AS word FROM (
        SELECT name AS text FROM crm_contacts
        UNION ALL SELECT name FROM crm_organizations
        UNION ALL SELECT title FROM crm_deals
        UNION ALL SELECT title FROM crm_tasks
    ) AS texts
) AS words
WHERE length(word) BETWEEN 3 AND 60
ON CONFLICT DO NOTHING
"""


def search_words_add(texts: Iterable[str]) -> None:
    """Add the words of `texts` to the dictionary (PostgreSQL only: SQLite has no typo pass).
    One query; runs in the caller's transaction."""
    if connection.vendor != "postgresql":
        return
    words = {word for text in texts for word in WORD.findall((text or "").lower())}
    if words:
        SearchWord.objects.bulk_create(
            [SearchWord(word=word) for word in sorted(words)], ignore_conflicts=True
        )


def search_words_refresh() -> None:
    """Add the words of every searched name and title, after writes that send no signals
    (COPY, `bulk_create`). PostgreSQL only; one statement."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_WORDS_REFRESH)


def corrected_query(query: str) -> str:
    """`query` with each of its words (3 letters or more) replaced by the most similar word of
    the dictionary (trigram similarity, at least pg_trgm's threshold, 0.3); the rest as
    typed. PostgreSQL only; one query."""
    words = sorted(set(WORD.findall(query.lower())))
    if not words:
        return query
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT typed.word, (SELECT known.word FROM crm_search_words AS known"
            " WHERE known.word %% typed.word"
            " ORDER BY similarity(known.word, typed.word) DESC, known.word LIMIT 1)"
            " FROM unnest(%s::text[]) AS typed(word)",
            [words],
        )
        best = {typed: known for typed, known in cursor.fetchall() if known}
    return WORD.sub(lambda match: best.get(match.group().lower(), match.group()), query)


class ILike(Lookup):
    """`column ILIKE pattern` on PostgreSQL: unlike Django's `icontains` (`UPPER(column) LIKE
    UPPER(...)`), the trigram GIN index on the bare column serves it."""

    lookup_name = "ilike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


def _escaped(query: str) -> str:
    return query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ilike_starts(column: str, query: str) -> ILike:
    """`column` starts with `query`, whatever the case, its wildcards taken literally."""
    return ILike(F(column), Value(f"{_escaped(query)}%"))


def ilike_contains(column: str, query: str) -> ILike:
    """`column` contains `query`, whatever the case, its wildcards taken literally."""
    return ILike(F(column), Value(f"%{_escaped(query)}%"))


def ranked(records: QuerySet, query: str, fields: tuple[str, ...], limit: int) -> list:
    """At most `limit` of `records` that contain `query` in any of `fields` (the first is
    the record's name), best first, as the module docstring says, in one query."""
    name = fields[0]
    postgresql = connection.vendor == "postgresql"
    match = Q()
    for column in fields:
        match |= (
            Q(ilike_contains(column, query)) if postgresql else Q(**{f"{column}__icontains": query})
        )
    starts = ilike_starts(name, query) if postgresql else Q(**{f"{name}__istartswith": query})
    if postgresql:
        # A broad query ("solar": 18,700 deals) would rank every match: rank only the
        # first CANDIDATES that start with the query and the first that contain it, found
        # in the trigram index without reading the rest. (SQLite, the small local
        # database, refuses LIMIT in a UNION's parts and ranks them all.)
        first = _first(records.filter(starts)).union(_first(records.filter(match)))
        match = Q(pk__in=first)
    rank = Case(When(starts, then=Value(1)), default=Value(0))
    order = (F("search_rank").desc(), Length(name), name, "pk")
    return list(records.filter(match).annotate(search_rank=rank).order_by(*order)[:limit])


def _first(records: QuerySet) -> QuerySet:
    return records.order_by().values("pk")[:CANDIDATES]


def _joined(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


def _contacts(user: User, query: str, limit: int) -> list[SearchHit]:
    contacts = ranked(
        Contact.objects.visible_to(user).select_related("organization"),
        query,
        ("name", "email"),
        limit,
    )
    return [
        SearchHit(
            contact.name,
            reverse("crm:contact_detail", args=[contact.pk]),
            _joined(contact.organization.name if contact.organization else "", contact.email),
        )
        for contact in contacts
    ]


def _organizations(user: User, query: str, limit: int) -> list[SearchHit]:
    organizations = ranked(Organization.objects.visible_to(user), query, ("name", "domain"), limit)
    return [
        SearchHit(
            organization.name,
            reverse("crm:organization_detail", args=[organization.pk]),
            _joined(organization.domain, organization.industry),
        )
        for organization in organizations
    ]


def _deals(user: User, query: str, limit: int) -> list[SearchHit]:
    deals = ranked(
        Deal.objects.visible_to(user).select_related("stage", "pipeline"),
        query,
        ("title",),
        limit,
    )
    return [
        SearchHit(
            deal.title,
            reverse("crm:deal_detail", args=[deal.pk]),
            _joined(
                deal.get_status_display() if not deal.is_open else deal.stage.name,
                deal.pipeline.name,
            ),
        )
        for deal in deals
    ]


def _tasks(user: User, query: str, limit: int) -> list[SearchHit]:
    tasks = ranked(
        Task.objects.visible_to(user).select_related("contact", "organization", "deal"),
        query,
        ("title",),
        limit,
    )
    return [
        SearchHit(
            task.title,
            record_url(task.record),
            _joined(
                gettext("Done")
                if task.completed_at
                else gettext("Due %(date)s") % {"date": date_format(task.due_date, "j M Y")},
                getattr(task.record, "title", None) or task.record.name,
            ),
        )
        for task in tasks
    ]


def crm_search_providers_register() -> None:
    """The CRM's own kinds (called from `CrmConfig.ready`)."""
    search_provider_register(SearchProvider("contacts", _("Contacts"), _contacts, order=10))
    search_provider_register(
        SearchProvider("organizations", _("Organizations"), _organizations, order=20)
    )
    search_provider_register(SearchProvider("deals", _("Deals"), _deals, order=30))
    search_provider_register(SearchProvider("tasks", _("Tasks"), _tasks, order=40))
