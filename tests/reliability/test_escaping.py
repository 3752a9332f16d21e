"""Hostile content stored by users comes out harmless: HTML-escaped in every page and htmx
partial, plain text in emails (no header injection), escaped in the ICS feed, and never a
formula in CSV or XLSX exports."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from calendar_app.services import feed_token_regenerate
from coop.consent import consent_grant
from coop.models import ConsentScope
from crm.meeting_scheduling import meeting_schedule
from crm.services import contact_create, deal_create, interaction_log
from finance.models import RevenueForecast
from finance.services import revenue_entry_create
from tests.browser.test_every_page import NOT_PAGES
from tests.reliability.test_access_matrix import PAGE_GET, REGISTRY, _app_routes
from tests.reliability.world import build_world

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'
RAW_MARKERS = ('<script>alert("x")', "<img src=x")
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]


@pytest.fixture
def hostile_world(team, rep, manager, finance_user, django_capture_on_commit_callbacks):
    """Every user-entered field of the team's records holds the payload."""
    rep.display_name = f"Rep {XSS}"
    rep.save()
    consent_grant(user=rep, scope=ConsentScope.PERSONAL_RECOMMENDATIONS)
    world = build_world(team, rep)
    contact = contact_create(
        actor=rep,
        team=team,
        name=f"Name {XSS}",
        email="hostile@client.example",
        phone=XSS[:30],
        organization_name=f"Org {XSS}",
        job_title=f"Job {XSS}",
        notes=f"Notes {XSS}",
    )
    interaction_log(
        actor=rep,
        contact=contact,
        interaction_type="email",
        summary=f"Summary {XSS}",
        details=f"Details {XSS}",
    )
    stage = world.pipeline.stages.order_by("position").first()
    stage.name = f"Stage {XSS}"[:100]
    stage.save()
    world.pipeline.name = f"Pipeline {XSS}"
    world.pipeline.save()
    for title in [f"Deal {XSS}", *FORMULAS]:
        deal_create(
            actor=rep,
            pipeline=world.pipeline,
            stage=stage,
            title=title,
            contact=contact,
            value_cents=100_000,
            expected_close_date=timezone.localdate() + datetime.timedelta(days=5),
        )
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):  # the invitation is emailed
        meeting = meeting_schedule(
            organizer=rep,
            contact=contact,
            title=f"Meeting {XSS}",
            start_time=start,
            end_time=start + datetime.timedelta(hours=1),
            location=f"Room {XSS}",
            description=f"Agenda {XSS}\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT",
            invite=True,
        )
    revenue_entry_create(
        actor=finance_user,
        team=team,
        booked_on=timezone.localdate(),
        amount_cents=1000,
        currency="EUR",
        description=f"Revenue {XSS}",
    )
    world.contact, world.meeting, world.event = contact, meeting, meeting.calendar_event
    return world


def _assert_escaped(text: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in text, f"unescaped payload in {where}"


def test_payloads_are_escaped_in_every_page_and_partial(hostile_world, rep):
    client = Client()
    client.force_login(rep)
    seen_escaped = 0
    checked = 0
    for name, params in _app_routes():
        if name in NOT_PAGES - {"crm:contact_timeline", "crm:deal_contact_options"}:
            continue
        if params:
            route = REGISTRY[name]
            if route.get != 200 or "rep" not in route.audience:
                continue
            path = reverse(name, kwargs=route.kwargs(hostile_world))
        elif PAGE_GET.get(name, 200) == 200:
            path = reverse(name)
        else:
            continue
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, {"contact_search": "Name"}, headers=headers)
            assert response.status_code == 200, path
            text = response.content.decode()
            _assert_escaped(text, f"{path} {headers}")
            seen_escaped += ESCAPED in text
            checked += 1
    assert checked >= 50
    assert seen_escaped >= 10  # the payload really is on the pages, escaped


def test_payloads_stay_plain_text_in_emails_without_header_injection(hostile_world):
    assert mail.outbox, "the invitation was emailed"
    for message in mail.outbox:
        assert message.content_subtype == "plain"
        assert not getattr(message, "alternatives", None)
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.to == ["hostile@client.example"]
        assert not message.bcc and not message.cc


def test_payloads_are_escaped_in_the_ics_feed(hostile_world, rep):
    token = feed_token_regenerate(user=rep)
    body = Client().get(reverse("calendar_app:feed", args=[token])).content
    calendar = Calendar.from_ical(body)
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert len(events) == 2  # the world's meeting and the hostile one, nothing injected
    hostile = events[f"Meeting {XSS}"]
    assert str(hostile["LOCATION"]) == f"Room {XSS}"
    assert "ATTENDEE:mailto:evil" in str(hostile["DESCRIPTION"])  # text, not a property
    attendees = hostile.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert not any("evil@example.com" in str(attendee) for attendee in attendees)
    assert b"\r\nATTENDEE:mailto:evil" not in body


def test_exports_neutralise_formulas_end_to_end(hostile_world, manager, team):
    client = Client()
    client.force_login(manager)
    today = timezone.localdate()
    response = client.post(
        reverse("finance:generate"),
        {
            "scope": f"{team.pk}:team",
            "period_type": "monthly",
            "start": today.replace(day=1).isoformat(),
            "end": (today + datetime.timedelta(days=60)).isoformat(),
            "currency": "EUR",
            "name": FORMULAS[0],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    forecast = RevenueForecast.objects.get(name=FORMULAS[0])
    csv_body = b"".join(
        client.get(reverse("finance:export", args=[forecast.pk, "csv"])).streaming_content
    )
    cells = [cell for row in csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))) for cell in row]
    xlsx = b"".join(
        client.get(reverse("finance:export", args=[forecast.pk, "xlsx"])).streaming_content
    )
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    xlsx_cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    for formula in FORMULAS:
        assert "'" + formula in cells, formula
        assert "'" + formula in [cell.value for cell in xlsx_cells], formula
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))]
    assert not [cell for cell in xlsx_cells if cell.data_type == "f"]
    for formula in FORMULAS:
        contact_create(actor=manager, team=team, name=formula, notes=formula)
    for name in ("crm:contact_export", "crm:organization_export", "crm:deal_export"):
        body = b"".join(client.get(reverse(name), {"format": "csv"}).streaming_content)
        cells = [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]
        assert not [cell for cell in cells if cell.startswith(("=", "+", "@"))], name
        xlsx = b"".join(client.get(reverse(name), {"format": "xlsx"}).streaming_content)
        book = openpyxl.load_workbook(io.BytesIO(xlsx))
        assert not [
            cell for row in book.active.iter_rows() for cell in row if cell.data_type == "f"
        ]
