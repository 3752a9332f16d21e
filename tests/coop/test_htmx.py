"""A view that answers a page or an htmx fragment from the same URL says `Vary: HX-Request` on
both (`coop.htmx.varies_on_htmx`), so no cache hands out one for the other; and the URL
resolver holds no such view that this file does not check."""

import ast
import dataclasses
import datetime
import inspect
import textwrap

import pytest
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.cache import has_vary_header

from crm.meeting_scheduling import meeting_schedule
from crm.models import ImportRun, ImportStatus
from tests.crm.factories import (
    ContactFactory,
    DealFactory,
    NoteFactory,
    OrganizationFactory,
    PipelineFactory,
    TaskFactory,
)
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"coop", "crm", "calendar_app", "finance", "health", "integrations"}


@dataclasses.dataclass(frozen=True)
class Call:
    method: str  # "get", or "post" (sent empty) for a view that only takes POST
    arg: str | None = None  # the `world` object whose pk the URL takes
    headers: dict = dataclasses.field(default_factory=dict)  # sent with HX-Request
    manager: bool = False  # a manager's page (a rep's otherwise)


VARYING = {
    "crm:calendar": Call("get"),
    "calendar_app:event_move": Call("post", "event"),
    "calendar_app:event_cancel": Call("post", "event"),
    "crm:meeting_new": Call("get", "contact"),
    "crm:meeting_edit": Call("get", "meeting"),
    "crm:meeting_cancel": Call("post", "meeting"),
    "crm:contact_list": Call("get"),
    "crm:organization_list": Call("get"),
    "crm:import_detail": Call("get", "import_run", manager=True),
    "crm:contact_log_interaction": Call("post", "contact"),
    "crm:deal_list": Call("get"),
    "crm:search": Call("get"),
    "crm:contact_tags": Call("post", "contact"),
    "crm:organization_tags": Call("post", "organization"),
    "crm:deal_tags": Call("post", "deal"),
    "crm:deal_move": Call("post", "deal"),
    "crm:pipeline_board": Call("get", "pipeline"),
    "crm:pipeline_column": Call("get", "board_column"),
    "crm:pipeline_settings": Call("get", "pipeline", manager=True),
    "finance:detail": Call("get", "forecast", {"HX-Target": "forecast-deals"}),
    "finance:generate": Call("post"),
    "health:insights": Call("get"),
    "crm:my_day": Call("get"),
    # Refused (an empty form; a manager deleting the rep's note), and a tick that reopens.
    "crm:task_new": Call("post", "deal_record"),
    "crm:note_new": Call("post", "deal_record"),
    "crm:task_done": Call("post", "task"),
    "crm:task_edit": Call("get", "task"),
    "crm:note_edit": Call("get", "note"),
    "crm:note_delete": Call("post", "note", manager=True),
}


@pytest.fixture
def world(rep, team):
    pipeline = PipelineFactory(team=team)
    contact = ContactFactory(team=team, owner=rep)
    start = timezone.now() + datetime.timedelta(days=3)
    meeting = meeting_schedule(
        organizer=rep,
        contact=contact,
        title="Site visit",
        start_time=start,
        end_time=start + datetime.timedelta(hours=1),
    )
    deal = DealFactory(pipeline=pipeline, owner=rep, contact=contact)
    return {
        "deal_record": ["deals", deal.pk],
        "task": TaskFactory(deal=deal, assignee=rep),
        "note": NoteFactory(deal=deal, author=rep),
        "contact": contact,
        "organization": OrganizationFactory(team=team),
        "meeting": meeting,
        "event": meeting.calendar_event,
        "pipeline": pipeline,
        "board_column": [pipeline.pk, pipeline.stages.get(name="Lead").pk],
        "deal": deal,
        "forecast": generate_forecast(rep, team, scope_user=rep),
        "import_run": ImportRun.objects.create(
            team=team, kind="contacts", file_name="a.csv", status=ImportStatus.RUNNING
        ),
    }


@pytest.mark.parametrize(("name", "call"), VARYING.items(), ids=list(VARYING))
def test_the_page_and_the_fragment_both_vary_on_hx_request(
    rep_client, client, manager, world, name, call
):
    arg = world[call.arg] if call.arg else None
    url = reverse(name, args=[] if arg is None else arg if isinstance(arg, list) else [arg.pk])
    if call.manager:
        client.force_login(manager)
    send = getattr(client if call.manager else rep_client, call.method)
    page = send(url)
    fragment = send(url, headers={"HX-Request": "true", **call.headers})
    assert (page.status_code, page.content) != (fragment.status_code, fragment.content)
    for response in (page, fragment):
        assert response.status_code not in (404, 405, 500), response.status_code
        assert has_vary_header(response, "HX-Request"), response.headers


def _project_views(patterns=None, namespace=""):
    """(namespaced URL name, view) of every URL the project's own apps answer."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _project_views(pattern.url_patterns, inner)
        elif pattern.callback.__module__.split(".")[0] in PROJECT_APPS:
            yield ":".join(filter(None, [namespace, pattern.name])), pattern.callback


def _branches_on_htmx(function, seen: set) -> bool:
    """Whether the function reads `request.htmx`, itself or in a project function it calls
    by name (`render_board`, `dialog`, ...)."""
    function = inspect.unwrap(function)
    if function in seen:
        return False
    seen.add(function)
    source = textwrap.dedent(inspect.getsource(function))
    if "request.htmx" in source:
        return True
    called = {
        node.func.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    return any(
        inspect.isfunction(callee := function.__globals__.get(name))
        and callee.__module__.split(".")[0] in PROJECT_APPS
        and _branches_on_htmx(callee, seen)
        for name in called
    )


def test_every_view_that_branches_on_htmx_is_checked_here():
    branching = {name for name, view in _project_views() if _branches_on_htmx(view, set())}
    assert branching == set(VARYING)
