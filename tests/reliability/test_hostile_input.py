"""Hostile input (hypothesis): arbitrary text, numbers, dates and ids at every form, HTMX
endpoint, query string of every GET view and `manage.py` command. Never a 500 or a
traceback; rejected input writes nothing (every row of every table is unchanged) and says
why.

Examples per endpoint: `EXAMPLES` (see the report in README.md); the database state carries
over between the examples of one endpoint, so accepted input is followed by more input."""

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import ERROR
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance.models import RevenueForecast
from tests.reliability.test_access_matrix import (
    PAGE_GET,
    REGISTRY,
    _app_routes,
    _board_column,
    _deal_record,
    _note,
    _routes,
    _task,
    _twins,
)
from tests.reliability.world import World, build_world, snapshot

pytestmark = pytest.mark.django_db

EXAMPLES = 4
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "9" * 40,
    "1e309",
    "NaN",
    "-Infinity",
    "0x1F",
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01T00:00",
    "2026-03-29T02:30",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "=cmd|' /C calc'!A0",
    "\x00",
    "a\x00b",
    "\u202e\ufeff",
    "😀" * 100,
    "x" * 5000,
    str(uuid.uuid4()),
    "../../etc/passwd",
]


def hostile(ids: list[str] = ()) -> st.SearchStrategy[str]:
    """Arbitrary text, numbers, dates, times and ids, and ids of real objects."""
    return st.one_of(
        st.text(max_size=300),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.decimals(allow_nan=True).map(str),
        st.dates().map(str),
        st.datetimes().map(lambda value: value.isoformat()),
        st.times().map(str),
        st.uuids().map(str),
        st.sampled_from(SPECIAL + list(ids)),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    fields: tuple
    kwargs: object = None  # World -> URL kwargs
    role: str = "rep"
    extra: dict = field(default_factory=dict)  # fixed fields (e.g. a valid choice)


def _pk(attribute):
    return lambda world: {"pk": getattr(world, attribute).pk}


CONTACT = ("team", "name", "email", "phone", "organization", "job_title", "notes")
IMPORT = ("kind", "team", "date_format", "policy", "keep_valid")
ORGANIZATION = ("name", "website", "domain", "phone", "address", "industry", "size", "notes")
DEAL = ("title", "value", "contact", "expected_close_date")
MEETING = ("title", "start_time", "end_time", "location", "description")
TASK = ("title", "due_date", "due_time", "priority", "next")
BULK = ("action", "ids", "tags", "owner", "stage", "format", "next")
WHATIF = ("value_change_percent", "slip_percent", "shock_currency", "shock_percent", "name")

ENDPOINTS = [
    Endpoint("login", "post", ("username", "password"), role="anonymous"),
    Endpoint("set_language", "post", ("language", "next"), role="anonymous"),
    Endpoint("set_language", "post", ("language", "next")),
    Endpoint(
        "personal_settings", "post", ("display_name", "time_zone", "language", "color_scheme")
    ),
    Endpoint("crm:contact_new", "post", CONTACT),
    Endpoint("crm:contact_edit", "post", CONTACT, _pk("contact")),
    Endpoint(
        "crm:contact_log_interaction",
        "post",
        ("interaction_type", "summary", "details", "timestamp"),
        _pk("contact"),
    ),
    Endpoint("crm:contact_list", "get", ("q", "page")),
    Endpoint("crm:contact_new", "get", ("organization",)),
    Endpoint("crm:organization_new", "post", ("team", *ORGANIZATION)),
    Endpoint(
        "crm:organization_edit",
        "post",
        ORGANIZATION,
        lambda world: {"pk": world.contact.organization_id},
    ),
    Endpoint("crm:organization_list", "get", ("q", "page")),
    Endpoint("crm:organization_options", "get", ("organization",)),
    Endpoint("crm:import_new", "post", IMPORT, role="manager"),
    Endpoint("integrations:contact_erase", "post", ("confirm",), _pk("contact"), role="manager"),
    Endpoint(
        "crm:contact_merge",
        "post",
        ("name", "email", "phone", "job_title", "notes", "organization"),
        _twins("contact"),
    ),
    Endpoint("crm:import_preview", "post", (*IMPORT, "map_0", "map_1"), role="manager"),
    Endpoint("crm:import_start", "post", (*IMPORT, "map_0", "map_1"), role="manager"),
    Endpoint("crm:contact_timeline", "get", ("after",), _pk("contact")),
    Endpoint(
        "crm:organization_timeline",
        "get",
        ("after",),
        lambda world: {"pk": world.contact.organization_id},
    ),
    Endpoint("crm:deal_list", "get", ("q", "status", "pipeline", "stage", "page")),
    Endpoint("crm:pipeline_board", "get", ("q", "owner", "tag", "sort"), _pk("pipeline")),
    Endpoint("crm:pipeline_column", "get", ("q", "owner", "tag", "sort", "after"), _board_column),
    Endpoint("crm:deal_contact_options", "get", ("contact_search", "team")),
    Endpoint("crm:deal_new", "post", (*DEAL, "stage")),
    Endpoint("crm:deal_new", "get", ("contact", "stage")),
    Endpoint("crm:deal_edit", "post", DEAL, _pk("deal")),
    Endpoint("crm:deal_move", "post", ("stage", "q", "owner", "tag", "sort"), _pk("deal")),
    Endpoint("crm:deal_forecast_category", "post", ("category",), _pk("deal")),
    Endpoint(
        "integrations:deal_close", "post", ("outcome", "lost_reason", "lost_comment"), _pk("deal")
    ),
    Endpoint(
        "crm:pipeline_settings",
        "post",
        ("action", "name", "currency", "probability", "kind", "stage", "to", "order", "move_to"),
        _pk("pipeline"),
        role="manager",
    ),
    Endpoint("crm:pipeline_new", "post", ("team", "name", "currency"), role="manager"),
    Endpoint("crm:team_stale_days", "post", ("stale_deal_days",), _pk("team"), role="manager"),
    Endpoint(
        "crm:lost_reasons", "post", ("action", "team", "name", "reason", "archived"), role="manager"
    ),
    Endpoint(
        "crm:owners_reassign",
        "post",
        ("record_type", "ids", "owner", "next"),
        role="manager",
    ),
    Endpoint("crm:meeting_new", "post", (*MEETING, "invite", "schedule_anyway"), _pk("contact")),
    Endpoint("crm:meeting_new", "get", ("date", "time", "deal"), _pk("contact")),
    Endpoint("crm:meeting_edit", "post", (*MEETING, "schedule_anyway"), _pk("meeting")),
    Endpoint("crm:meeting_cancel", "post", ("confirm",), _pk("meeting")),
    Endpoint("crm:calendar", "get", ("date", "view", "who")),
    Endpoint("crm:my_day", "get", ("who",)),
    Endpoint("crm:my_day", "get", ("who",), role="manager"),
    Endpoint("crm:task_new", "post", TASK, _deal_record),
    Endpoint("crm:task_new", "post", (*TASK, "assignee"), _deal_record, role="manager"),
    Endpoint("crm:task_done", "post", ("done", "next"), _task),
    Endpoint(
        "crm:task_edit", "post", ("title", "due_date", "due_time", "priority", "assignee"), _task
    ),
    Endpoint(
        "crm:task_edit",
        "post",
        ("title", "due_date", "due_time", "priority", "assignee"),
        _task,
        role="manager",
    ),
    Endpoint("crm:note_new", "post", ("body", "next"), _deal_record),
    Endpoint("crm:note_edit", "post", ("body",), _note),
    Endpoint("crm:note_edit", "post", ("body",), _note, role="manager"),
    Endpoint("crm:note_delete", "post", ("next",), _note, role="manager"),
    Endpoint("crm:search", "get", ("q",)),
    Endpoint("crm:tag_options", "get", ("tags",)),
    Endpoint("crm:contact_list", "get", ("tag", "q")),
    Endpoint("crm:contact_bulk", "post", BULK),
    Endpoint("crm:organization_bulk", "post", BULK),
    Endpoint("crm:deal_bulk", "post", BULK),
    Endpoint("crm:contact_tags", "post", ("tags", "remove"), _pk("contact")),
    Endpoint("crm:deal_tags", "post", ("tags", "remove"), _pk("deal")),
    Endpoint(
        "calendar_app:event_move",
        "post",
        ("start_time", "end_time", "date", "move_anyway"),
        _pk("event"),
    ),
    Endpoint("calendar_app:notifications", "get", ("page",)),
    Endpoint("calendar_app:notifications_read", "post", ("id",)),
    Endpoint("calendar_app:preferences", "post", ("reminder_minutes",)),
    Endpoint("calendar_app:caldav", "post", ("server_url", "username", "password")),
    Endpoint("calendar_app:caldav_calendars", "post", ("receiving", "busy")),
    Endpoint(
        "finance:generate",
        "post",
        ("scope", "period_type", "start", "end", "currency", "name"),
        role="manager",
    ),
    Endpoint("finance:index", "get", ("page",)),
    Endpoint("finance:detail", "get", ("page",), _pk("forecast")),
    Endpoint("finance:whatif", "post", WHATIF, _pk("forecast")),
    Endpoint("finance:scenario_save", "post", WHATIF, _pk("forecast")),
    Endpoint(
        "finance:revenue",
        "post",
        ("team", "booked_on", "amount", "currency", "description"),
        role="finance",
    ),
    Endpoint("finance:targets", "get", ("page",)),
    Endpoint(
        "finance:targets",
        "post",
        ("team", "person", "period_type", "period_start", "amount", "currency"),
        role="manager",
    ),
    Endpoint("finance:targets_import", "post", ("file",), role="manager"),
    Endpoint("finance:submissions", "get", ("team", "start")),
    Endpoint("finance:probabilities", "get", ("cutoff",)),
    Endpoint("finance:probabilities", "post", ("pipeline", "source"), role="manager"),
    Endpoint("finance:probabilities_refit", "post", ("team",), role="manager"),
    Endpoint("finance:submissions", "post", ("level", "amount", "currency", "comment")),
    Endpoint("health:index", "post", ("stress", "sleep_hours", "energy")),
    Endpoint("health:consent", "post", ("scope", "action")),
    Endpoint("health:insights", "get", ("page",)),
]


@pytest.fixture
def world(team, rep, manager, finance_user):
    return build_world(team, rep)


def _ids(world: World) -> list[str]:
    stages = world.pipeline.stages.values_list("pk", flat=True)
    return [
        str(value)
        for value in [
            world.team.pk,
            world.contact.pk,
            world.contact.organization_id,
            world.deal.pk,
            world.meeting.pk,
            world.event.pk,
            world.forecast.pk,
            world.notification.pk,
            world.pipeline.pk,
            world.rep.pk,
            *stages,
        ]
    ]


def _error_shown(response) -> bool:
    """Whether the answer tells the user what was wrong."""
    text = response.content.decode(errors="replace")
    if response.status_code == 404:
        return "Page not found" in text or response.headers.get("HX-Request") is not None
    return any(
        marker in text
        for marker in ('role="alert"', "errorlist", "form-errors", "error", "cannot", "not ")
    )


def _rejected(response) -> bool:
    if response.status_code >= 400:
        return True
    messages = list(response.context["messages"]) if response.context else []
    return any(message.level == ERROR for message in messages)


@pytest.fixture
def clients(rep, manager, finance_user, staff_user):
    """A signed-in client per role (and one signed out), shared by the examples of one
    endpoint; the auditor is staff given the explicit right to read the health metrics."""
    staff_user.user_permissions.add(Permission.objects.get(codename="view_saleshealthmetric"))
    signed_in = {"anonymous": Client(raise_request_exception=False)}
    people = {"rep": rep, "manager": manager, "finance": finance_user, "auditor": staff_user}
    for role, user in people.items():
        signed_in[role] = Client(raise_request_exception=False)
        signed_in[role].force_login(user)
    return signed_in


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{e.method}-{e.name}" for e in ENDPOINTS])
@HYPOTHESIS
@given(data=st.data())
def test_hostile_input_never_breaks_an_endpoint(endpoint, data, world, clients):
    client = clients[endpoint.role]
    path = reverse(endpoint.name, kwargs=endpoint.kwargs(world) if endpoint.kwargs else None)
    values = hostile(_ids(world))
    payload = data.draw(
        st.fixed_dictionaries({}, optional={name: values for name in endpoint.fields})
    )
    htmx = data.draw(st.booleans())
    headers = {"HX-Request": "true"} if htmx else {}
    before = snapshot()
    response = getattr(client, endpoint.method)(path, payload, headers=headers)
    text = response.content.decode(errors="replace")
    assert response.status_code < 500, (endpoint.name, payload, text[:500])
    assert "Traceback" not in text
    if endpoint.method == "get":
        assert snapshot() == before, "a GET wrote something"
    elif _rejected(response):
        assert snapshot() == before, (endpoint.name, payload, "rejected but written")
        if response.status_code in (400, 422):
            assert _error_shown(response), (endpoint.name, payload, text[:500])


# Every query-string parameter the views read, directly or through a filter form. Each GET
# view is offered all of them (it ignores the others), so a parameter read by one view is
# tried on every view; `test_every_parameter_read_from_a_query_string_is_tried` keeps the
# list complete.
QUERY_PARAMETERS = (
    "date",
    "time",
    "view",
    "who",
    "page",
    "q",
    "status",
    "pipeline",
    "stage",
    "team",
    "contact",
    "contact_search",
    "organization",
    "format",
    "deal",
    "after",
    "username",
    "start",
    "end",
    "cutoff",
    "next",
    "report",
    "owner",
    "tag",
    "tags",
)
# Who opens a GET view in these tests, when not a rep: the audience that gets past its
# permission check to the code that reads the query string.
GET_ROLES = {"health:metrics": "auditor", "finance:revenue": "finance"}


def _get_views() -> list[tuple[str, object]]:
    """(name, World -> URL kwargs) of every app view that answers GET, as the access matrix
    knows them: every parametrised URL has a `REGISTRY` entry there, so none is missed."""
    plain = [
        (name, None)
        for name, params in _app_routes()
        if not params and PAGE_GET.get(name, 200) != 405
    ]
    return plain + [(name, route.kwargs) for name, route in REGISTRY.items() if route.get != 405]


GET_VIEWS = _get_views()


def test_every_parameter_read_from_a_query_string_is_tried():
    """The names the code reads from `request.GET`, and the fields of the forms bound to
    it, are all in QUERY_PARAMETERS."""
    from crm.forms import DealFilterForm
    from health.forms import MetricsFilterForm

    read = set()
    for source in Path(__file__).resolve().parents[2].glob("*/**/*.py"):
        if source.parts[-2] in {"tests", "migrations"} or ".venv" in source.parts:
            continue
        text = source.read_text(encoding="utf-8")
        read |= set(re.findall(r'request\.GET(?:\.get\(|\[)"(\w+)"', text))
        read |= set(re.findall(r'"(\w+)" in request\.GET', text))
    read |= set(DealFilterForm.base_fields) | set(MetricsFilterForm.base_fields)
    assert {"date", "page", "after", "q"} <= read
    assert read <= set(QUERY_PARAMETERS)


# The ends of what Python and the app's windows (coop.dates, finance.periods) can hold.
EDGE_DATES = [
    "0001-01-01",
    "0001-01-02",
    "1899-12-31",
    "1900-01-01",
    "1999-12-31",
    "2101-01-01",
    "2999-12-31",
    "3000-01-01",
    "9999-12-15",
    "9999-12-31",
]
EDGE_VALUES = [
    *EDGE_DATES,
    *(f"{day}T{at}" for day in ("0001-01-01", "9999-12-31") for at in ("00:00", "23:59")),
    "00:00",
    "23:59",
    "24:00",
    "week",
    "team",
    "0",
    "-1",
    str(2**63),
    "1e309",
]


def _check_get(client, path: str, query: dict, headers: dict) -> None:
    before = snapshot()
    response = client.get(path, query, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    assert response.status_code < 500, (path, query, text[:500])
    assert "Traceback" not in text
    assert snapshot() == before, (path, query, "a GET wrote something")


@pytest.mark.parametrize(("name", "kwargs"), GET_VIEWS, ids=[name for name, _ in GET_VIEWS])
@HYPOTHESIS
@given(data=st.data())
def test_hostile_query_strings_never_break_a_get_view(name, kwargs, data, world, clients):
    """A few parameters at a time, each value an edge (a date at the end of a window, a huge
    number) or anything `hostile` draws."""
    path = reverse(name, kwargs=kwargs(world) if kwargs else None)
    values = st.sampled_from(EDGE_VALUES) | hostile(_ids(world))
    query = data.draw(st.dictionaries(st.sampled_from(QUERY_PARAMETERS), values, max_size=4))
    headers = {"HX-Request": "true"} if data.draw(st.booleans()) else {}
    _check_get(clients[GET_ROLES.get(name, "rep")], path, query, headers)


@pytest.mark.parametrize(("name", "kwargs"), GET_VIEWS, ids=[name for name, _ in GET_VIEWS])
def test_every_edge_date_in_every_date_parameter_of_a_get_view(name, kwargs, world, clients):
    """Every edge date in all the date parameters at once, in both calendar views: the
    arithmetic around a date (the next month, a week of grid, a time zone, a meeting's
    length) is where a date at the end of Python's range breaks."""
    path = reverse(name, kwargs=kwargs(world) if kwargs else None)
    client = clients[GET_ROLES.get(name, "rep")]
    for day in EDGE_DATES:
        for view in ("month", "week"):
            query = {"date": day, "start": day, "end": day, "time": "23:59", "view": view}
            _check_get(client, path, query, {})


def _not_an_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return True
    return False


def _commands(world: World, tmp_path: Path) -> dict[str, st.SearchStrategy[list[str]]]:
    """argv strategies for every `manage.py` command of the project."""
    ids = _ids(world)
    values = hostile(ids)
    safe_name = st.text(
        st.characters(blacklist_characters="/\\\x00", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=40,
    ).filter(lambda name: name not in {".", ".."})

    def options(*names):
        return st.lists(
            st.sampled_from(names).flatmap(lambda name: values.map(lambda v: [name, v])),
            max_size=len(names),
        ).map(lambda pairs: [item for pair in pairs for item in pair])

    return {
        "send_reminders": st.lists(st.sampled_from(["--quiet", "--verbosity", "x", "-1"])),
        "sync_calendars": st.lists(
            st.sampled_from(["--quiet", "--enqueue", "--verbosity", "x", "-1"])
        ),
        "caldav_rotate_key": st.lists(st.sampled_from(["--verbosity", "x", "-1"])),
        "import_invitation_reply": st.tuples(
            safe_name,
            st.binary(max_size=2000)
            | values.map(
                lambda text: (
                    "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
                    f"UID:{text}@coop-crm\r\nSEQUENCE:{text}\r\nATTENDEE;PARTSTAT={text}:"
                    f"mailto:{text}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                ).encode("utf-8", "surrogatepass")
            ),
        ).map(lambda parts: ["__file__", parts[0], parts[1]]),
        "add_member": st.tuples(
            values, options("--team", "--role", "--email", "--display-name")
        ).map(lambda parts: [parts[0], *parts[1]]),
        # A valid seed runs the whole demo seeder, which tests/coop/test_commands.py covers.
        "seed_demo": st.lists(
            st.tuples(
                st.sampled_from(["--seed", "--contacts", "--deals"]),
                values.filter(_not_an_int),
            ),
            min_size=1,
            max_size=2,
        ).map(lambda pairs: [item for pair in pairs for item in pair]),
        "export_forecast": st.tuples(
            values,
            st.sampled_from(["csv", "xlsx", "pdf", ""]),
            safe_name.map(lambda name: str(tmp_path / "out" / name)),
        ).map(lambda parts: [parts[0], "--format", parts[1], "--output", parts[2]]),
        "generate_forecasts": options("--period", "--start", "--end", "--team", "--currency"),
        "rollup_sales_health": options("--date", "--since"),
        "refit_probabilities": options("--team"),
        "rebuild_report_history": st.just([]),
        "import_exchange_rates": st.tuples(
            safe_name,
            st.binary(max_size=2000)
            | values.map(
                lambda text: f"date,base,quote,rate\n{text}".encode("utf-8", "surrogatepass")
            ),
        ).map(lambda parts: ["__file__", parts[0], parts[1]]),
        "import_targets": st.tuples(
            safe_name,
            st.binary(max_size=2000)
            | values.map(
                lambda text: (
                    f"team,person,period_type,period_start,amount,currency\n{world.team.name},"
                    f"{text},monthly,{text},{text},EUR\n"
                ).encode("utf-8", "surrogatepass")
            ),
            # One token, so the test puts it before the file: the manager, the rep or anything.
            (st.sampled_from(["manager", world.rep.username]) | values).map(
                lambda who: f"--as={who}"
            ),
        ).map(lambda parts: ["__file__", parts[0], parts[1], parts[2]]),
        # The file first, then the kind and options around it (see the test below).
        "import_records": st.tuples(
            safe_name.map(lambda name: f"{name}.csv"),
            st.binary(max_size=2000)
            | values.map(lambda text: f"Name,Email\n{text}".encode("utf-8", "surrogatepass")),
            st.sampled_from(["contacts", "organizations", "deals", "x"]),
            options("--team", "--on-match", "--date-format", "--map", "--errors"),
            st.booleans(),
        ).map(
            lambda parts: [
                "__file__",
                parts[0],
                parts[1],
                parts[2],
                *(["--team", world.team.name] if parts[4] else []),
                *parts[3],
            ]
        ),
    }


COMMANDS = [
    "send_reminders",
    "sync_calendars",
    "caldav_rotate_key",
    "import_invitation_reply",
    "add_member",
    "seed_demo",
    "export_forecast",
    "generate_forecasts",
    "rollup_sales_health",
    "import_exchange_rates",
    "import_records",
    "import_targets",
    "refit_probabilities",
    "rebuild_report_history",
]


def test_every_command_is_covered():
    from django.core.management import get_commands

    ours = {
        name
        for name, app in get_commands().items()
        if app.split(".")[0] in {"coop", "crm", "calendar_app", "finance", "health", "integrations"}
    }
    assert ours == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
@HYPOTHESIS
@given(data=st.data())
def test_hostile_arguments_never_break_a_command(command, data, world, tmp_path):
    argv = data.draw(_commands(world, tmp_path)[command])
    if argv and argv[0] == "__file__":
        target = tmp_path / "in" / argv[1]
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(argv[2])
        # A kind (import_records) goes before the file, its options after it.
        argv = [*argv[3:4], str(target), *argv[4:]]
    before = snapshot()
    forecasts = RevenueForecast.objects.count()
    try:
        call_command(command, *argv, stdout=_Sink(), stderr=_Sink())
    except CommandError as error:
        assert str(error).strip(), "a refusal says why"
        assert "Traceback" not in str(error)
        assert snapshot() == before, (command, argv, "refused but written")
    else:
        assert RevenueForecast.objects.count() >= forecasts


class _Sink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


ADDRESSES = [(name, route) for name, route, params in _routes() if params]
APP_ADDRESSES = [item for item in ADDRESSES if not item[0].startswith("admin:")]
ADMIN_ADDRESSES = [item for item in ADDRESSES if item[0].startswith("admin:")]
ADMIN_EXAMPLES = 3


def _check_hostile_address(route: str, name: str, data, world, client) -> None:
    """Arbitrary text for every parameter of the URL: a 404 (or a refusal), never a 500."""
    values = hostile(_ids(world)).filter(lambda value: value not in {"", ".", ".."})
    path = "/" + re.sub(r"<(?:\w+:)?\w+>", lambda _match: quote(data.draw(values), safe=""), route)
    before = snapshot()
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code < 500, (name, path)
        assert "Traceback" not in response.content.decode(errors="replace")
    assert snapshot() == before


@pytest.mark.parametrize(("name", "route"), APP_ADDRESSES, ids=[n for n, _ in APP_ADDRESSES])
@HYPOTHESIS
@given(data=st.data())
def test_hostile_ids_in_every_address_are_refused_never_a_500(name, route, data, world, clients):
    _check_hostile_address(route, name, data, world, clients["rep"])


@pytest.mark.parametrize(("name", "route"), ADMIN_ADDRESSES, ids=[n for n, _ in ADMIN_ADDRESSES])
@settings(HYPOTHESIS, max_examples=ADMIN_EXAMPLES)
@given(data=st.data())
def test_hostile_ids_in_every_admin_address_are_refused_never_a_500(
    name, route, data, world, staff_user
):
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    _check_hostile_address(route, name, data, world, client)
