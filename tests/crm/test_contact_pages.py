import datetime
import re

import pytest
from django.core.cache import caches
from django.urls import reverse
from django.utils import timezone

from crm.models import Contact, Interaction
from crm.selectors import TIMELINE_PAGE_SIZE
from tests.catalogues import compile_catalogues, page_in
from tests.crm.factories import ContactFactory, InteractionFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _timeline(contact, count):
    start = timezone.now() - datetime.timedelta(days=count)
    return [
        InteractionFactory(
            contact=contact, summary=f"Entry {n:02d}", timestamp=start + datetime.timedelta(days=n)
        )
        for n in range(count)
    ]


def _summaries(html):
    return re.findall(r"<strong>(Entry \d+)</strong>", html)


# Contact detail and its timeline


def test_contact_detail_shows_the_contact_and_its_timeline_newest_first(rep_client, contact):
    _timeline(contact, 3)
    response = rep_client.get(reverse("crm:contact_detail", args=[contact.pk]))
    assert response.status_code == 200
    assert "<h1>Olga Ortiz</h1>" in response.text
    assert _summaries(response.text) == ["Entry 02", "Entry 01", "Entry 00"]
    assert 'class="actions"' in response.text


def test_contact_detail_without_interactions_says_so(rep_client, contact):
    response = rep_client.get(reverse("crm:contact_detail", args=[contact.pk]))
    assert "Nothing on the timeline yet" in response.text


def test_timeline_loads_older_entries_page_by_page(rep_client, contact):
    _timeline(contact, TIMELINE_PAGE_SIZE + 5)
    first = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    shown = _summaries(first)
    assert len(shown) == TIMELINE_PAGE_SIZE
    assert shown[0] == f"Entry {TIMELINE_PAGE_SIZE + 4}"
    next_url = re.search(r'hx-get="([^"]+\?after=[^"]+)" hx-trigger="revealed"', first).group(1)
    second = rep_client.get(next_url.replace("&amp;", "&"), **HTMX)
    assert second.status_code == 200
    assert _summaries(second.text) == [f"Entry {n:02d}" for n in range(4, -1, -1)]
    assert "?after=" not in second.text
    assert "<html" not in second.text


def test_timeline_partial_alone_renders_the_first_page(rep_client, contact):
    _timeline(contact, 2)
    response = rep_client.get(reverse("crm:contact_timeline", args=[contact.pk]), **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="timeline"')
    assert _summaries(response.text) == ["Entry 01", "Entry 00"]


def test_timeline_cursor_of_another_contact_or_garbage_is_a_404(rep_client, contact, team, rep):
    other = ContactFactory(team=team, owner=rep)
    entry = InteractionFactory(contact=other)
    url = reverse("crm:contact_timeline", args=[contact.pk])
    assert rep_client.get(url, {"after": entry.pk}).status_code == 404
    assert rep_client.get(url, {"after": "not-a-uuid"}).status_code == 404


def test_logging_a_call_with_htmx_answers_the_form_and_refreshes_the_timeline(
    rep_client, contact, rep
):
    response = rep_client.post(
        reverse("crm:contact_log_interaction", args=[contact.pk]),
        {"interaction_type": "call", "summary": "Discussed the roof", "details": "Call back"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == '{"interactionLogged": {}}'
    assert "Logged: Discussed the roof" in response.text
    interaction = Interaction.objects.get()
    assert (interaction.contact, interaction.author, interaction.interaction_type) == (
        contact,
        rep,
        "call",
    )
    assert abs(interaction.timestamp - timezone.now()) < datetime.timedelta(minutes=1)


def test_logging_without_a_summary_shows_the_error_and_writes_nothing(rep_client, contact):
    response = rep_client.post(
        reverse("crm:contact_log_interaction", args=[contact.pk]),
        {"interaction_type": "email", "summary": "  "},
        **HTMX,
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "This field is required." in response.text
    assert not Interaction.objects.exists()


def test_logging_a_platform_event_or_future_interaction_by_hand_is_refused(rep_client, contact):
    url = reverse("crm:contact_log_interaction", args=[contact.pk])
    response = rep_client.post(url, {"interaction_type": "platform_event", "summary": "x"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = rep_client.post(
        url, {"interaction_type": "call", "summary": "x", "timestamp": tomorrow}
    )
    assert "not in the future" in response.text
    assert not Interaction.objects.exists()


def test_the_time_of_a_logged_interaction_is_read_in_the_users_time_zone(rep_client, contact, rep):
    assert rep.time_zone == "Europe/Paris"
    response = rep_client.post(
        reverse("crm:contact_log_interaction", args=[contact.pk]),
        {"interaction_type": "meeting", "summary": "Visit", "timestamp": "2026-01-15T10:00"},
    )
    assert response.status_code == 302
    assert Interaction.objects.get().timestamp == datetime.datetime(
        2026, 1, 15, 9, 0, tzinfo=datetime.UTC
    )
    page = rep_client.get(reverse("crm:contact_detail", args=[contact.pk])).text
    assert "Thu 15 Jan 2026, 10:00" in page


# Contact list


def test_contact_list_searches_name_email_and_organization(rep_client, team, rep):
    acme = OrganizationFactory(team=team, name="Acme Solar")
    ContactFactory(team=team, owner=rep, name="Ana Lima", email="ana@lima.example")
    ContactFactory(team=team, owner=rep, name="Bo Berg", email="bo@zed.example", organization=acme)
    ContactFactory(team=team, owner=rep, name="Cy Cole", email="cy@cole.example")
    url = reverse("crm:contact_list")
    for query, expected in [("lima", "Ana Lima"), ("ZED", "Bo Berg"), ("acme", "Bo Berg")]:
        page = rep_client.get(url, {"q": query}).text
        assert expected in page
        assert "Cy Cole" not in page
    assert "No contact matches “nobody”" in rep_client.get(url, {"q": "nobody"}).text


def test_live_search_answers_only_the_results(rep_client, contact):
    response = rep_client.get(reverse("crm:contact_list"), {"q": "olga"}, **HTMX)
    assert response.text.lstrip().startswith('<section id="results"')
    assert "Olga Ortiz" in response.text
    assert "<html" not in response.text


def test_contact_list_is_paginated_and_keeps_the_search(rep_client, team, rep):
    for n in range(30):
        ContactFactory(team=team, owner=rep, name=f"Person {n:02d}")
    url = reverse("crm:contact_list")
    first = rep_client.get(url, {"q": "person"}).text
    assert "Person 00" in first
    assert "Person 25" not in first
    assert "Page 1 of 2" in first
    assert "?q=person&amp;page=2" in first
    second = rep_client.get(url, {"q": "person", "page": 2}).text
    assert "Person 25" in second
    assert "Person 00" not in second


def test_contact_list_shows_only_visible_contacts(rep_client, contact, foreign_contact):
    page = rep_client.get(reverse("crm:contact_list")).text
    assert "Olga Ortiz" in page
    assert "Fritz Foreign" not in page


def test_empty_contact_list_invites_to_add_one(rep_client):
    assert "No contacts yet" in rep_client.get(reverse("crm:contact_list")).text


# Create and edit


def test_create_contact_then_land_on_its_page(rep_client, team, rep):
    response = rep_client.post(
        reverse("crm:contact_new"),
        {"team": team.pk, "name": "Dana Diaz", "email": "dana@x.example", "organization": "Acme"},
        follow=True,
    )
    contact = Contact.objects.get(name="Dana Diaz")
    assert response.redirect_chain[-1][0] == reverse("crm:contact_detail", args=[contact.pk])
    assert "Contact Dana Diaz added." in response.text
    assert (contact.owner, contact.team, contact.organization.name) == (rep, team, "Acme")


def test_create_contact_with_bad_input_shows_messages_and_writes_nothing(rep_client, team):
    response = rep_client.post(
        reverse("crm:contact_new"), {"team": team.pk, "name": "", "email": "nope"}
    )
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "Enter a valid email address." in response.text
    assert not Contact.objects.exists()


def test_contact_fields_on_two_lines_are_refused_by_the_form(rep_client, team):
    data = {
        "team": team.pk,
        "name": "Dana\nDiaz",
        "phone": "+1\t555",
        "organization": "Acme\r\nInc",
        "job_title": "CEO\x1b",
    }
    response = rep_client.post(reverse("crm:contact_new"), data)
    assert response.status_code == 400
    assert response.text.count("without line breaks, tabs or other control characters") == 4
    assert not Contact.objects.exists()


def test_create_contact_offers_only_the_users_teams(rep_client, team, other_team):
    page = rep_client.get(reverse("crm:contact_new")).text
    assert f'value="{team.pk}"' in page
    assert f'value="{other_team.pk}"' not in page
    response = rep_client.post(reverse("crm:contact_new"), {"team": other_team.pk, "name": "X"})
    assert response.status_code == 400
    assert not Contact.objects.exists()


def test_edit_contact_saves_and_reports(rep_client, contact):
    response = rep_client.post(
        reverse("crm:contact_edit", args=[contact.pk]),
        {"name": "Olga O. Ortiz", "email": "olga@x.example", "organization": "Sun Co"},
        follow=True,
    )
    assert "Contact saved." in response.text
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.organization.name) == (
        "Olga O. Ortiz",
        "olga@x.example",
        "Sun Co",
    )


def test_edit_contact_form_is_prefilled_and_validates(rep_client, contact):
    url = reverse("crm:contact_edit", args=[contact.pk])
    assert 'value="Olga Ortiz"' in rep_client.get(url).text
    response = rep_client.post(url, {"name": "", "email": "bad"})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.text
    contact.refresh_from_db()
    assert contact.name == "Olga Ortiz"


def test_going_back_to_a_searched_list_gets_the_whole_page(rep_client, contact):
    response = rep_client.get(
        reverse("crm:contact_list"),
        {"q": "olga"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.text
    assert "Olga Ortiz" in response.text
    assert "HX-Request" in response["Vary"]


def test_creating_a_contact_with_a_known_email_says_who_has_it(rep_client, team, contact):
    response = rep_client.post(
        reverse("crm:contact_new"), {"team": team.pk, "name": "Twin", "email": contact.email}
    )
    assert response.status_code == 400
    assert "Olga Ortiz already has this email address in this team." in response.text
    assert Contact.objects.count() == 1


def test_the_log_form_keeps_what_was_typed_after_an_error_then_comes_back_empty(
    rep_client, contact
):
    page_url = reverse("crm:contact_detail", args=[contact.pk])
    assert 'name="summary"' in rep_client.get(page_url).text  # the empty form, now cached
    tomorrow = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = rep_client.post(
        reverse("crm:contact_log_interaction", args=[contact.pk]),
        {"interaction_type": "call", "summary": "Typed text", "timestamp": tomorrow},
        **HTMX,
    ).text
    assert 'value="Typed text"' in refused
    assert "not in the future" in refused
    again = rep_client.get(page_url).text
    assert 'name="summary"' in again
    assert "Typed text" not in again
    assert "not in the future" not in again


def test_the_log_form_fields_cached_in_english_are_not_served_to_a_german_reader(
    rep_client, rep, contact
):
    """The empty log form's fields are a fragment cached once per process: per language, or
    the first reader's language would stick for everyone."""
    compile_catalogues(("coop", "crm"))
    caches["fragments"].clear()
    url = reverse("crm:contact_detail", args=[contact.pk])
    english = page_in(rep_client, rep, url, "en")
    german = page_in(rep_client, rep, url, "de")
    assert '<h2 id="timeline-heading">Timeline</h2>' in english
    assert ">Summary<" in english and ">Zusammenfassung<" not in english
    assert '<h2 id="timeline-heading">Verlauf</h2>' in german
    assert ">Zusammenfassung<" in german and ">Summary<" not in german
    assert "Termin planen" in german and "Noch nichts im Verlauf" in german
