"""Operations: probes, request ids, slow-query and error logging, replica routing."""

import logging

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coop import probes
from coop.db_router import ReplicaRouter, reads_from_replica
from coop.models import Team

pytestmark = pytest.mark.django_db


def test_healthz_answers_json_without_login_or_cookies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies


def test_readyz_is_ready_when_the_database_answers_and_migrations_are_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }


def test_readyz_is_not_ready_with_unapplied_migrations(client, monkeypatch):
    monkeypatch.setattr(probes, "_unapplied_migrations", lambda alias: ["crm.0099_future"])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 unapplied"


def test_readyz_is_not_ready_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(alias):
        raise OperationalError("connection refused")

    monkeypatch.setattr(probes, "_unapplied_migrations", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_probes_are_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one(rep_client):
    generated = rep_client.get("/")["X-Request-ID"]
    assert len(generated) == 32
    kept = rep_client.get("/", headers={"X-Request-ID": "lb-1234.abc"})
    assert kept["X-Request-ID"] == "lb-1234.abc"
    replaced = rep_client.get("/", headers={"X-Request-ID": "bad id\nwith newline"})
    assert replaced["X-Request-ID"] != "bad id\nwith newline"


def test_log_lines_of_a_request_carry_its_request_id(client, caplog, settings):
    settings.SLOW_QUERY_MS = 0
    with caplog.at_level(logging.WARNING, logger="coop.slow_query"):
        client.get("/readyz", headers={"X-Request-ID": "req-42"})
    slow = [record for record in caplog.records if record.name == "coop.slow_query"]
    assert slow, "every query is slow at a 0 ms threshold"
    assert {record.request_id for record in slow} == {"req-42"}
    assert slow[0].duration_ms >= 0


def test_fast_queries_are_not_logged_as_slow(client, caplog, settings):
    settings.SLOW_QUERY_MS = 60_000
    with caplog.at_level(logging.WARNING, logger="coop.slow_query"):
        client.get("/readyz")
    assert not [record for record in caplog.records if record.name == "coop.slow_query"]


reported = []


def remember_report(*, request):
    reported.append(request.path)


def test_unhandled_errors_are_logged_and_sent_to_the_error_reporter(
    client, rep, caplog, settings, monkeypatch
):
    settings.ERROR_REPORTER = "tests.coop.test_operations.remember_report"
    reported.clear()
    client.raise_request_exception = False
    client.force_login(rep)
    monkeypatch.setattr("coop.views.render", lambda *args, **kwargs: 1 / 0)
    with caplog.at_level(logging.ERROR, logger="coop.errors"):
        response = client.get("/", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    errors = [record for record in caplog.records if record.name == "coop.errors"]
    assert [record.request_id for record in errors] == ["boom-1"]
    assert errors[0].exc_info[0] is ZeroDivisionError
    assert reported == ["/"]


def test_the_router_sends_only_opted_in_reads_to_a_configured_replica(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.setitem(django_settings.DATABASES, "replica", {})
    assert router.db_for_read(Team) == "default"
    assert reads_from_replica(lambda: router.db_for_read(Team))() == "replica"
    assert reads_from_replica(lambda: router.db_for_write(Team))() == "default"
    assert router.allow_migrate("replica", "coop") is False
    assert router.allow_migrate("default", "coop") is True


def test_without_a_replica_opted_in_reads_use_the_default_database(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.delitem(django_settings.DATABASES, "replica", raising=False)
    assert reads_from_replica(lambda: router.db_for_read(Team))() == "default"


@pytest.mark.skipif(
    "replica" not in django_settings.DATABASES,
    reason="no replica alias: CI runs this with TEST_WITH_REPLICA=1 on PostgreSQL",
)
@pytest.mark.django_db(transaction=True, databases=["default", "replica"])
def test_the_dashboard_and_its_insights_tab_read_from_the_replica_alias(client, rep, request):
    request.addfinalizer(connections["replica"].close)
    client.force_login(rep)
    with (
        CaptureQueriesContext(connections["replica"]) as replica_queries,
        CaptureQueriesContext(connections["default"]) as default_queries,
    ):
        dashboard = client.get(reverse("dashboard"))
        insights = client.get(reverse("health:insights"), headers={"HX-Request": "true"})
    assert dashboard.status_code == insights.status_code == 200
    assert any("coop_memberships" in query["sql"] for query in replica_queries)
    assert any("coop_consents" in query["sql"] for query in replica_queries)
    assert not any("coop_memberships" in query["sql"] for query in default_queries)
