"""Access control proven on every URL of the project, for every role.

The URL resolver is walked (`_routes`), so a new view cannot escape: each parametrised URL
must have an entry in `REGISTRY`, which points it at an object of the North team. People of
another team (rep, manager, finance) get a 404 for it on GET and POST, and never see a word
of North's data on any list page; North's own roles get the answers below; anonymous users
are sent to the login page everywhere but the documented public URLs; the admin is for
staff only; and no page puts another person's health data in front of anyone.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.core.paginator import Page
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import ContextList
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from calendar_app.services import feed_token_regenerate
from coop.models import Role
from crm.models import ImportRun, Note, Task
from health.models import CheckIn, SalesHealthMetric
from tests.coop.factories import TeamFactory, UserFactory
from tests.coop.test_pages import PUBLIC_URL_NAMES
from tests.crm.factories import NoteFactory, TaskFactory
from tests.reliability.world import MARK, World, build_world, member

pytestmark = pytest.mark.django_db

TEAM = frozenset({"rep", "manager", "finance", "staff"})
# Personal records (calendar events): their organiser, the organiser's manager, staff.
PEOPLE = frozenset({"rep", "manager", "staff"})
MANAGERS = frozenset({"manager", "staff"})
OWN_ROLES = ("rep", "manager", "finance", "staff")
OTHER_ROLES = ("other_rep", "other_manager", "other_finance")


@dataclass(frozen=True)
class Route:
    """How to point a parametrised URL at the world's object, who may open it, and the
    status its audience gets for GET and for an empty POST."""

    kwargs: Callable[[World], dict]
    audience: frozenset = TEAM
    get: int = 200
    post: int = 405
    get_by_role: dict = field(default_factory=dict)
    post_by_role: dict = field(default_factory=dict)


def _contact(world):
    return {"pk": world.contact.pk}


def _organization(world):
    return {"pk": world.contact.organization_id}


def _board_column(world):
    stage = world.pipeline.stages.filter(is_won=False, is_lost=False).order_by("position")[0]
    return {"pk": world.pipeline.pk, "stage_pk": stage.pk}


def _import_run(world):
    run, _ = ImportRun.objects.get_or_create(
        team=world.team, kind="contacts", file_name="world.csv", defaults={"status": "imported"}
    )
    return {"pk": run.pk}


def _twins(model):
    """The world's contact or organization and a look-alike of the same team to merge."""

    def kwargs(world):
        first = world.contact if model == "contact" else world.contact.organization
        other, _ = type(first).objects.get_or_create(team=world.team, name=f"{first.name} twin")
        return {"pk": first.pk, "other": other.pk}

    return kwargs


def _deal(world):
    return {"pk": world.deal.pk}


def _deal_record(world):
    return {"kind": "deals", "pk": world.deal.pk}


def _task(world):
    """The world's task (made again if a test deleted it)."""
    task = Task.objects.filter(deal=world.deal).first() or TaskFactory(
        deal=world.deal, assignee=world.rep
    )
    return {"pk": task.pk}


def _note(world):
    """A note by the world's rep (made again after a POST deleted it)."""
    note = Note.objects.filter(deal=world.deal).first() or NoteFactory(
        deal=world.deal, author=world.rep, body="Again"
    )
    return {"pk": note.pk}


def _meeting(world):
    return {"pk": world.meeting.pk}


def _event(world):
    return {"pk": world.event.pk}


def _forecast(world):
    return {"pk": world.forecast.pk}


REFUSED = {"manager": 400, "finance": 400}
NOT_AUTHOR = {"manager": 400, "finance": 400, "staff": 400}

REGISTRY: dict[str, Route] = {
    "crm:contact_detail": Route(_contact),
    "crm:contact_edit": Route(_contact, post=400),
    "crm:contact_timeline": Route(_contact),
    "crm:contact_log_interaction": Route(_contact, get=405, post=400),
    "crm:meeting_new": Route(_contact, post=400),
    "crm:organization_detail": Route(_organization),
    "crm:organization_timeline": Route(_organization),
    "crm:organization_edit": Route(_organization, post=400),
    # An empty POST leaves the differing names unpicked.
    "crm:contact_merge": Route(_twins("contact"), post=400),
    "crm:organization_merge": Route(_twins("organization"), post=400),
    # A contact's personal data requests are its team managers' (and staff's); an empty
    # POST lacks the confirmation and is sent back with a message.
    "integrations:contact_personal_data": Route(_contact, audience=MANAGERS),
    "integrations:contact_erase": Route(_contact, audience=MANAGERS, get=405, post=302),
    # A team's imports are its managers' (and staff's).
    "crm:import_detail": Route(_import_run, audience=MANAGERS),
    "crm:import_errors": Route(_import_run, audience=MANAGERS),
    "crm:import_undo": Route(_import_run, audience=MANAGERS, get=405, post=302),
    "crm:pipeline_board": Route(lambda world: {"pk": world.pipeline.pk}),
    # More cards of a board column: the first open stage of the world's pipeline.
    "crm:pipeline_column": Route(_board_column),
    # A pipeline's settings are its team managers' (and staff's); an empty POST names no
    # action and is refused on the page.
    "crm:pipeline_settings": Route(
        lambda world: {"pk": world.pipeline.pk}, audience=MANAGERS, post=400
    ),
    # A team's stale-deal threshold is its managers' (and staff's); an empty POST gives no
    # number of days and is refused on the page.
    "crm:team_stale_days": Route(lambda world: {"pk": world.team.pk}, audience=MANAGERS, post=400),
    "crm:deal_detail": Route(_deal),
    # Tags: an empty POST names no tag; refused with the reason.
    "crm:contact_tags": Route(_contact, get=405, post=400),
    "crm:organization_tags": Route(_organization, get=405, post=400),
    "crm:deal_tags": Route(_deal, get=405, post=400),
    "crm:deal_edit": Route(_deal, post=400),
    "crm:deal_move": Route(_deal, get=405, post=302),
    "crm:deal_forecast_category": Route(_deal, get=405, post=302),
    "integrations:deal_close": Route(_deal, get=405, post=302),
    # Reopening is a manager's; a rep meets the refusal as a message on the deal page.
    "integrations:deal_reopen": Route(_deal, get=405, post=302),
    "crm:owner_card": Route(lambda world: {"record_type": "deal", "pk": world.deal.pk}),
    # A record's next steps and notes; an empty POST is refused with the form's errors, an
    # empty tick reopens the task. Only a note's author may edit or delete it: the others
    # get the refusal.
    "crm:record_activity": Route(_deal_record),
    "crm:task_new": Route(_deal_record, get=405, post=400),
    "crm:note_new": Route(_deal_record, get=405, post=400),
    "crm:task_done": Route(_task, get=405, post=302),
    # Anyone who sees a task sees its edit form; an empty POST is refused with the errors.
    "crm:task_edit": Route(_task, post=400),
    # A note as its page shows it (what the edit form's Cancel puts back): for everyone who
    # sees it.
    "crm:note_entry": Route(_note),
    "crm:note_edit": Route(_note, post=400, get_by_role=NOT_AUTHOR),
    "crm:note_delete": Route(_note, get=405, post=302, post_by_role=NOT_AUTHOR),
    # Only the organiser (and staff) may change a meeting: others get the refusal dialog.
    "crm:meeting_edit": Route(_meeting, post=400, get_by_role=REFUSED),
    # Cancelled here first (its organiser or staff; others are refused), so the
    # event_cancel below meets an already cancelled event: 400 for everyone.
    "crm:meeting_cancel": Route(_meeting, get=405, post=302, post_by_role=REFUSED),
    "calendar_app:event_detail": Route(_event, audience=PEOPLE),
    "calendar_app:event_move": Route(_event, audience=PEOPLE, get=405, post=400),
    "calendar_app:event_cancel": Route(_event, audience=PEOPLE, get=405, post=400),
    # The feed is public: its unguessable token is the credential (see `test_feed_...`),
    # made here since only its hash is stored.
    "calendar_app:feed": Route(
        lambda world: {"token": feed_token_regenerate(user=world.rep)}, get=200
    ),
    "finance:detail": Route(_forecast),
    "finance:whatif": Route(_forecast, get=405, post=200),
    "finance:scenario_save": Route(_forecast, get=405, post=302),
    "finance:export": Route(lambda world: {"pk": world.forecast.pk, "file_format": "csv"}),
    "finance:deal_probability": Route(_deal),
}


def _routes(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """(name, route, parameter names) of every URL pattern, the admin's included."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            child_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry, prefix + str(entry.pattern), child_ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            yield f"{namespace}{entry.name}", route, re.findall(r"<(?:\w+:)?(\w+)>", route)


def _app_routes():
    return [(name, params) for name, _, params in _routes() if not name.startswith("admin:")]


def _admin_routes():
    return [(name, route) for name, route, _ in _routes() if name.startswith("admin:")]


# A submitted form with nothing useful in it (so forms are bound and must refuse it).
FORM = {"submitted": "1"}


@dataclass
class Matrix:
    """Every request made and its answer, so the test can report how much it checked."""

    checked: int = 0

    def request(self, client: Client, method: str, path: str):
        self.checked += 1
        return getattr(client, method)(path, FORM if method == "post" else None)


@pytest.fixture
def north(team, rep):
    return build_world(team, rep)


@pytest.fixture
def people(team, rep, manager, finance_user, staff_user):
    south = TeamFactory(name="South")
    return {
        "rep": rep,
        "manager": manager,
        "finance": finance_user,
        "staff": staff_user,
        "other_rep": member(south, Role.REP, "south-rep"),
        "other_manager": member(south, Role.MANAGER, "south-manager"),
        "other_finance": member(south, Role.FINANCE, "south-finance"),
    }


def _client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _no_foreign_health_data(response, user) -> None:
    """No CheckIn or SalesHealthMetric of anyone but `user` reached the template."""
    contexts = response.context if isinstance(response.context, ContextList) else [response.context]
    for context in filter(None, contexts):
        for value in context.flatten().values():
            items = value
            if isinstance(value, Page):
                items = value.object_list
            if not isinstance(items, (QuerySet, list, tuple)):
                items = [items]
            for item in items:
                if isinstance(item, (CheckIn, SalesHealthMetric)):
                    assert item.user_id == user.pk, (response.request["PATH_INFO"], item)


def test_every_parametrised_url_has_a_registry_entry():
    parametrised = {name for name, params in _app_routes() if params}
    missing = parametrised - REGISTRY.keys()
    assert not missing, f"add these URLs to REGISTRY in {__file__}: {sorted(missing)}"
    assert not REGISTRY.keys() - parametrised, "REGISTRY names a URL that no longer exists"
    unnamed = [name for name, _ in _app_routes() if name.endswith("None")]
    assert not unnamed, "every URL pattern needs a name to be checked"


def _own_expectation(route: Route, role: str, method: str) -> int:
    if role not in route.audience:
        allowed = {"get": route.get, "post": route.post}[method]
        return 405 if allowed == 405 else 404
    if method == "get":
        return route.get_by_role.get(role, route.get)
    return route.post_by_role.get(role, route.post)


# POSTs that cancel come last so the other URLs still meet an open meeting and deal.
POST_ORDER = sorted(
    REGISTRY, key=lambda name: ("cancel" in name, name == "calendar_app:event_cancel", name)
)


@pytest.mark.parametrize("role", OWN_ROLES + OTHER_ROLES)
def test_parametrised_urls_answer_each_role_rightly(role, north, people):
    user = people[role]
    client = _client_for(user)
    matrix = Matrix()
    for method in ("get", "post"):
        for name in POST_ORDER:
            route = REGISTRY[name]
            path = reverse(name, kwargs=route.kwargs(north))
            response = matrix.request(client, method, path)
            if name in PUBLIC_URL_NAMES:
                expected = route.get if method == "get" else 405
            elif role in OWN_ROLES:
                expected = _own_expectation(route, role, method)
            else:
                # Another team's people: the object does not exist for them.
                expected = 405 if {"get": route.get, "post": route.post}[method] == 405 else 404
            assert response.status_code == expected, (role, method, name, response.status_code)
            if method == "get":
                _no_foreign_health_data(response, user)
    assert matrix.checked == 2 * len(REGISTRY)


# Non-parametrised pages and what North's roles get on GET (200 unless listed).
PAGE_GET = {
    "logout": 405,
    "crm:deal_contact_options": 200,
    "crm:import_preview": 405,
    "crm:import_start": 405,
    "crm:owners_reassign": 405,
    "crm:contact_bulk": 405,
    "crm:organization_bulk": 405,
    "crm:deal_bulk": 405,
    "calendar_app:notifications_read": 405,
    "calendar_app:feed_regenerate": 405,
    "calendar_app:caldav_calendars": 405,
    "calendar_app:caldav_test": 405,
    "calendar_app:caldav_disconnect": 405,
    "finance:generate": 405,
    "finance:targets_import": 405,
    "finance:probabilities_refit": 405,
    "health:metrics": 404,  # only staff given the permission explicitly
    "login": 302,  # a signed-in user is sent on to the dashboard
    "favicon": 301,  # to the static icon
    "set_language": 302,  # a GET changes nothing and goes back
}


@pytest.mark.parametrize("role", OWN_ROLES + OTHER_ROLES)
def test_pages_without_parameters_answer_each_role_and_hide_other_teams(role, north, people):
    user = people[role]
    client = _client_for(user)
    pages = [name for name, params in _app_routes() if not params]
    assert len(pages) >= 20
    for name in pages:
        response = client.get(reverse(name))
        assert response.status_code == PAGE_GET.get(name, 200), (role, name)
        _no_foreign_health_data(response, user)
        # Exports stream; what they hold is checked as a page's would be.
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        if role in OTHER_ROLES:
            assert MARK not in text, (role, name)
        elif response.status_code == 200 and name in {
            "crm:contact_list",
            "crm:deal_list",
            "crm:organization_list",
            "crm:contact_export",
            "crm:deal_export",
            "crm:organization_export",
        }:
            assert MARK in text, (role, name)


def test_anonymous_users_are_sent_to_login_everywhere_but_public_urls(north):
    client = _client_for(None)
    login_url = reverse("login")
    checked = 0
    for name, _params in _app_routes():
        route = REGISTRY.get(name)
        path = reverse(name, kwargs=route.kwargs(north) if route else None)
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            checked += 1
            if name in PUBLIC_URL_NAMES:
                assert response.status_code < 500, name
                continue
            assert response.status_code == 302, (name, method, response.status_code)
            assert response["Location"].startswith(login_url), (name, method)
    assert checked == 2 * len(_app_routes())


def test_the_feed_answers_only_its_exact_token(north, people):
    token = feed_token_regenerate(user=north.rep)
    client = _client_for(people["other_rep"])
    assert client.get(reverse("calendar_app:feed", args=[token])).status_code == 200
    for wrong in (token[:-1], token + "x", token.upper(), "x"):
        assert client.get(reverse("calendar_app:feed", args=[wrong])).status_code == 404


def _admin_path(route: str) -> str:
    route = re.sub(r"<path:object_id>", "00000000-0000-0000-0000-000000000000", route)
    route = re.sub(r"<id>", "1", route)
    route = re.sub(r"\(\?P<app_label>[^)]*\)", "coop", route)
    route = re.sub(r"<[^>]+>", "x", route)
    return "/" + route.lstrip("^").rstrip("$")


@pytest.mark.parametrize("role", ("anonymous", *OWN_ROLES[:3], *OTHER_ROLES))
def test_every_admin_url_is_closed_to_everyone_but_staff(role, people):
    client = _client_for(people.get(role))
    routes = _admin_routes()
    assert len(routes) >= 50
    for name, route in routes:
        path = _admin_path(route)
        for method in ("get", "post"):
            response = getattr(client, method)(path, FORM if method == "post" else None)
            if name in ("admin:login", "admin:logout"):
                # The admin's own login form (it tells a signed-in non-staff user they are
                # not authorised) and logging out of it.
                assert response.status_code in (200, 302, 405), (name, method)
                continue
            assert response.status_code == 302, (role, name, path, method, response.status_code)
            # Anonymous users meet the site's login first; signed-in ones the admin's.
            logins = (reverse("admin:login"),)
            if role == "anonymous":
                logins += (reverse("login"),)
            assert response["Location"].startswith(logins), (role, name, path)


def test_staff_reach_every_admin_list_without_health_rows_unless_permitted(staff_user, north):
    client = _client_for(staff_user)
    assert client.get(reverse("admin:index")).status_code == 200
    for model in admin.site._registry:
        opts = model._meta
        response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model is CheckIn:
            # Health check-ins need an explicit permission, which superusers do not get.
            assert response.status_code == 403, opts.label
            continue
        assert response.status_code == 200, opts.label


def test_health_metrics_page_needs_the_explicit_permission(people, north):
    staff = UserFactory(username="plain-staff", is_staff=True)
    for user in [*people.values(), staff]:
        assert _client_for(user).get(reverse("health:metrics")).status_code == 404, user
