"""One search across the CRM's records, for the top bar: each kind of record (contacts,
organizations, deals, tasks, and whatever a module registers) answers through a *provider*, within
the visibility rule, and the results come back grouped by kind, best match first.

Ranking: the records whose name (or other searched field) contains the query, whatever the
case, come first: those whose name starts with it, then shorter names (the closer match),
then alphabetically. On PostgreSQL the match is an ILIKE served by trigram GIN indexes
(`pg_trgm`, created in the CRM's migrations), and when no record of any kind contains the
query, the most similar ones by trigram word similarity are shown instead, so a typo ("solr roof")
still finds "Solar roof". SQLite has no trigrams: the substring match alone.

Measured at 150,000 deals (benchmarks/search.py): ranking every match by similarity made a
broad query ("solar", 18,700 deals) compute it for each row, and even a cheap order read
every matching row; so on PostgreSQL only the first CANDIDATES rows that start with the
query and the first that contain it are ranked (by prefix, then length), and similarity is
computed only when nothing contains the query (it is the slow part: every record sharing a
trigram with the query is checked).

A module above the CRM adds a kind by registering a provider in its `AppConfig.ready()`:
`search_provider_register(SearchProvider(kind="quotes", label="Quotes", order=50, find=...))`;
`find(user, query, limit, similar)` returns at most `limit` `SearchHit`s the user may see,
best first (with `similar`, those similar to the query: a provider without a notion of
similarity returns none).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, F, Lookup, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, Length
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coop.models import User
from crm.models import Contact, Deal, Organization, Task
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
    # find(user, query, limit, similar): at most `limit` hits the user may see, best first;
    # `similar` asks, on PostgreSQL, for records similar to the query rather than containing it.
    find: Callable[[User, str, int, bool], list[SearchHit]]
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
    no provider has any (PostgreSQL), the similar ones. One query per provider, two when
    nothing contains the query, whatever the number of records."""
    query = search_query_clean(query)
    if len(query) < QUERY_MIN:
        return []
    for similar in (False, True) if connection.vendor == "postgresql" else (False,):
        groups = [
            SearchGroup(provider.kind, provider.label, provider.find(user, query, limit, similar))
            for provider in search_providers()
        ]
        groups = [group for group in groups if group.hits]
        if groups:
            break
    return groups


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


def ranked(
    records: QuerySet, query: str, fields: tuple[str, ...], limit: int, similar: bool = False
) -> list:
    """At most `limit` of `records` matching `query` in any of `fields` (the first is the
    record's name), best first, as the module docstring says, in one query: those that
    contain it or, with `similar` (PostgreSQL only), those whose words are similar to it."""
    name = fields[0]
    if similar:
        match = Q()
        for column in fields:
            match |= Q(TrigramWordSimilar(F(column), Value(query)))
        scores = [TrigramWordSimilarity(Value(query), column) for column in fields]
        rank = Greatest(*scores) if len(scores) > 1 else scores[0]
        order = (F("search_rank").desc(), name, "pk")
    else:
        postgresql = connection.vendor == "postgresql"
        match = Q()
        for column in fields:
            match |= (
                Q(ilike_contains(column, query))
                if postgresql
                else Q(**{f"{column}__icontains": query})
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


def _contacts(user: User, query: str, limit: int, similar: bool) -> list[SearchHit]:
    contacts = ranked(
        Contact.objects.visible_to(user).select_related("organization"),
        query,
        ("name", "email"),
        limit,
        similar,
    )
    return [
        SearchHit(
            contact.name,
            reverse("crm:contact_detail", args=[contact.pk]),
            _joined(contact.organization.name if contact.organization else "", contact.email),
        )
        for contact in contacts
    ]


def _organizations(user: User, query: str, limit: int, similar: bool) -> list[SearchHit]:
    organizations = ranked(
        Organization.objects.visible_to(user), query, ("name", "domain"), limit, similar
    )
    return [
        SearchHit(
            organization.name,
            reverse("crm:organization_detail", args=[organization.pk]),
            _joined(organization.domain, organization.industry),
        )
        for organization in organizations
    ]


def _deals(user: User, query: str, limit: int, similar: bool) -> list[SearchHit]:
    deals = ranked(
        Deal.objects.visible_to(user).select_related("stage", "pipeline"),
        query,
        ("title",),
        limit,
        similar,
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


def _tasks(user: User, query: str, limit: int, similar: bool) -> list[SearchHit]:
    tasks = ranked(
        Task.objects.visible_to(user).select_related("contact", "organization", "deal"),
        query,
        ("title",),
        limit,
        similar,
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
