"""The personal wellness page: one check-in per day, editable that day, owner-only."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from health.models import CheckIn
from health.services import checkin_save, today_for

pytestmark = pytest.mark.django_db


def test_a_check_in_is_saved_for_the_users_local_today(rep_client, rep):
    response = rep_client.post(
        reverse("health:index"), {"stress": "35", "sleep_hours": "7.5", "energy": "4"}, follow=True
    )
    checkin = CheckIn.objects.get(user=rep)
    assert checkin.date == today_for(rep)
    assert (checkin.stress, str(checkin.sleep_hours), checkin.energy) == (35, "7.5", 4)
    assert "Check-in saved" in response.text
    assert 'Your wellness score today: <strong class="score">' in response.text


def test_stress_alone_is_enough(rep_client, rep):
    rep_client.post(reverse("health:index"), {"stress": "80", "sleep_hours": "", "energy": ""})
    checkin = CheckIn.objects.get(user=rep)
    assert (checkin.sleep_hours, checkin.energy, checkin.wellness_score) == (None, None, 20)


def test_a_second_check_in_the_same_day_updates_it(rep_client, rep):
    rep_client.post(reverse("health:index"), {"stress": "80"})
    response = rep_client.post(reverse("health:index"), {"stress": "20"}, follow=True)
    assert CheckIn.objects.get(user=rep).stress == 20
    assert "Update today's check-in" in response.text
    assert 'value="20"' in response.text


def test_past_days_stay_as_they_were(rep, check_in):
    yesterday = today_for(rep) - datetime.timedelta(days=1)
    check_in(rep, day=yesterday, stress=90)
    checkin_save(user=rep, stress=10)
    assert CheckIn.objects.get(user=rep, date=yesterday).stress == 90
    assert CheckIn.objects.filter(user=rep).count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Enter your stress level"),
        ({"stress": "101"}, "less than or equal to 100"),
        ({"stress": "-5"}, "greater than or equal to 0"),
        ({"stress": "calm"}, "Enter a whole number"),
        ({"stress": "10", "sleep_hours": "25"}, "less than or equal to 24"),
        ({"stress": "10", "energy": "9"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(rep_client, data, message):
    response = rep_client.post(reverse("health:index"), data)
    assert response.status_code == 400
    assert message in response.text
    assert "Please correct the fields marked below." in response.text
    assert not CheckIn.objects.exists()


def test_the_page_shows_only_the_users_own_check_ins(client, rep, manager, check_in):
    day = today_for(rep) - datetime.timedelta(days=2)
    check_in(rep, day=day, stress=77)
    check_in(manager, day=day, stress=11)
    client.force_login(manager)
    page = client.get(reverse("health:index")).text
    assert ">11<" in page
    assert ">77<" not in page


def test_history_chart_data_and_table_say_the_same(rep_client, rep, check_in):
    day = today_for(rep) - datetime.timedelta(days=1)
    check_in(rep, day=day, stress=30)
    page = rep_client.get(reverse("health:index")).text
    data = re.search(
        r'<script id="wellness-history-data" type="application/json">(.*?)</script>', page
    )
    assert data.group(1) == f'{{"labels": ["{day.isoformat()}"], "stress": [30], "score": [70]}}'
    assert '<td class="number">30</td>' in page
    assert '<td class="number">70</td>' in page


def test_history_is_paginated(rep_client, rep, check_in):
    today = today_for(rep)
    for offset in range(35):
        check_in(rep, day=today - datetime.timedelta(days=offset + 1))
    first = rep_client.get(reverse("health:index")).text
    assert "Page 1 of 2" in first and 'rel="next" href="?page=2"' in first
    second = rep_client.get(reverse("health:index") + "?page=2").text
    assert second.count("<tr><td>") == 5


def test_the_optional_questions_are_marked_once(rep_client):
    page = rep_client.get(reverse("health:index")).text
    assert 'Hours slept last night <span class="muted">(optional)</span></label>' in page
    assert 'Energy <span class="muted">(optional)</span></label>' in page
    assert page.count("(optional)") == 2


def test_empty_state_before_the_first_check_in(rep_client):
    page = rep_client.get(reverse("health:index")).text
    assert "No check-ins yet" in page
    assert "wellness-history-data" not in page


# The admin: raw check-ins only with an explicit permission


def test_admin_hides_check_ins_even_from_superusers_without_the_permission(
    client, staff_user, rep, check_in
):
    check_in(rep, stress=66)
    client.force_login(staff_user)
    assert client.get("/admin/health/checkin/").status_code == 403
    assert "Check-ins" not in client.get("/admin/").text


def test_admin_shows_check_ins_read_only_with_the_explicit_permission(
    client, staff_user, rep, check_in
):
    checkin = check_in(rep, stress=66)
    group = Group.objects.create(name="Wellness auditors")
    group.permissions.add(Permission.objects.get(codename="read_checkins"))
    staff_user.groups.add(group)
    client.force_login(staff_user)
    listing = client.get("/admin/health/checkin/")
    assert listing.status_code == 200
    assert ">66<" in listing.text
    assert client.get("/admin/health/checkin/add/").status_code == 403
    detail = client.get(f"/admin/health/checkin/{checkin.pk}/change/")
    assert detail.status_code == 200
    assert 'name="stress"' not in detail.text
    assert (
        client.post(f"/admin/health/checkin/{checkin.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert CheckIn.objects.filter(pk=checkin.pk).exists()
    views = AuditEvent.objects.filter(action=AuditAction.HEALTH_DATA_VIEWED).order_by("occurred_at")
    assert [(event.actor_name, event.object_id) for event in views] == [
        ("staff", ""),
        ("staff", str(checkin.pk)),
    ]


def test_a_double_submit_of_the_first_check_in_redirects_twice_and_keeps_one_row(rep_client, rep):
    data = {"stress": "35", "sleep_hours": "7.5", "energy": "4"}
    first = rep_client.post(reverse("health:index"), data)
    second = rep_client.post(reverse("health:index"), data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert CheckIn.objects.filter(user=rep).count() == 1
