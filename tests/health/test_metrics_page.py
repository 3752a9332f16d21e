"""The read-only staff page for sales_health_metrics (the admin refuses composite keys)."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from coop.models import AuditAction, AuditEvent
from health.models import SalesHealthMetric

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def rows(rep, manager):
    for user, stress in ((rep, 33), (manager, 44)):
        SalesHealthMetric.objects.create(
            user=user,
            date=DAY,
            stress_level=stress,
            interaction_count=7,
            deal_velocity=0.75,
            conversion_rate=0.5,
        )


@pytest.fixture
def auditor(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="view_saleshealthmetric"))
    return staff_user


def test_people_without_the_explicit_permission_get_a_404(client, rows, rep, staff_user):
    for user in (rep, staff_user):  # staff_user is a superuser, but was not given it
        client.force_login(user)
        assert client.get(reverse("health:metrics")).status_code == 404


def test_staff_with_the_permission_read_the_rows(client, rows, auditor):
    client.force_login(auditor)
    page = client.get(reverse("health:metrics")).text
    assert "<td>rep</td>" in page and "<td>manager</td>" in page
    assert '<td class="number">0.75</td>' in page
    assert '<td class="number">50 %</td>' in page
    assert '<form method="post"' not in page


def test_every_reading_of_the_rows_is_audited_and_refusals_are_not(client, rows, auditor, rep):
    client.force_login(rep)
    client.get(reverse("health:metrics"))
    client.force_login(auditor)
    client.get(reverse("health:metrics"), {"username": "rep"})
    event = AuditEvent.objects.get(action=AuditAction.HEALTH_DATA_VIEWED)
    assert event.actor_name == "staff"
    assert event.detail == {"what": "sales health metrics", "query": "username=rep"}


def test_the_wellness_page_links_the_metrics_page_only_for_permitted_staff(
    client, auditor, staff_user, rep
):
    client.force_login(rep)
    assert reverse("health:metrics") not in client.get(reverse("health:index")).text
    client.force_login(auditor)
    assert reverse("health:metrics") in client.get(reverse("health:index")).text


def test_the_rows_can_be_filtered_and_bad_filters_are_explained(client, rows, auditor):
    client.force_login(auditor)
    page = client.get(reverse("health:metrics"), {"username": "rep"}).text
    assert "<td>rep</td>" in page and "<td>manager</td>" not in page
    page = client.get(reverse("health:metrics"), {"start": "2026-11-21"}).text
    assert "No rows match." in page
    page = client.get(reverse("health:metrics"), {"start": "2026-11-21", "end": "2026-11-01"}).text
    assert "must not be before" in page
    assert "No rows match." in page


def test_the_pages_keep_the_filter(client, rows, auditor, rep):
    SalesHealthMetric.objects.bulk_create(
        SalesHealthMetric(
            user=rep,
            date=DAY - datetime.timedelta(days=n),
            stress_level=20,
            interaction_count=1,
            deal_velocity=0,
            conversion_rate=0,
        )
        for n in range(1, 51)
    )
    client.force_login(auditor)
    first = client.get(reverse("health:metrics"), {"username": "rep"}).text
    assert "Page 1 of 2" in first
    assert 'rel="next" href="?username=rep&amp;page=2"' in first
    second = client.get(reverse("health:metrics"), {"username": "rep", "page": 2}).text
    assert second.count("<td>rep</td>") == 1 and "<td>manager</td>" not in second
    assert 'rel="prev" href="?username=rep&amp;page=1"' in second


def test_the_admin_lists_consents_and_their_log_read_only(client, staff_user, rep):
    from coop.consent import consent_grant
    from coop.models import ConsentEvent, ConsentScope

    consent_grant(user=rep, scope=ConsentScope.TEAM_INSIGHTS)
    event = ConsentEvent.objects.get()
    client.force_login(staff_user)
    listing = client.get("/admin/coop/consentevent/")
    assert listing.status_code == 200
    assert "Include me in team wellness insights" in listing.text
    assert client.get("/admin/coop/consentevent/add/").status_code == 403
    change = client.get(f"/admin/coop/consentevent/{event.pk}/change/")
    assert 'name="method"' not in change.text
    response = client.post(f"/admin/coop/consentevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert client.get("/admin/coop/consent/").status_code == 200
    assert client.get("/admin/coop/consent/add/").status_code == 403
