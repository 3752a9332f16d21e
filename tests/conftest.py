"""Fixtures shared by every test module: people in teams with each role, and a check of an
admin changelist's search and filters."""

import pytest
from django.urls import reverse

from coop.models import Role
from tests.coop.factories import MembershipFactory, TeamFactory, UserFactory


def pytest_configure(config):
    """The translation catalogues compiled (the .mo files are not committed), as
    `scripts/bootstrap` does: a test run after editing a .po sees the edit."""
    from scripts.compile_messages import main as compile_messages

    compile_messages()


@pytest.fixture
def debug_on(settings):
    """DEBUG on, as `make run` has it: `seed_demo` refuses to write demo users without it."""
    settings.DEBUG = True


@pytest.fixture
def team():
    return TeamFactory(name="North")


@pytest.fixture
def other_team():
    return TeamFactory(name="South")


@pytest.fixture
def rep(team):
    return MembershipFactory(team=team, role=Role.REP, user__username="rep").user


@pytest.fixture
def manager(team):
    return MembershipFactory(team=team, role=Role.MANAGER, user__username="manager").user


@pytest.fixture
def finance_user(team):
    return MembershipFactory(team=team, role=Role.FINANCE, user__username="finance").user


@pytest.fixture
def staff_user():
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(other_team):
    return MembershipFactory(team=other_team, role=Role.REP, user__username="outsider").user


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def admin_list(client, staff_user):
    """`admin_list(model, cases)`: in the admin changelist of `model`, each (params, expected)
    case (a search `q`, list_filter parameters) lists exactly the `expected` rows, fewer than
    without parameters; and the cases together search and use every list_filter of the admin.
    A parameter the admin does not know fails (it answers a redirect, not the list)."""
    client.force_login(staff_user)

    def changelist(model, params):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url, params)
        assert response.status_code == 200, (params, response.status_code)
        return response.context["cl"]

    def check(model, cases):
        unfiltered = changelist(model, {})
        for params, expected in cases:
            shown = changelist(model, params).result_list
            assert {row.pk for row in shown} == {row.pk for row in expected}, params
            assert len(shown) < len(unfiltered.result_list), params
        used = {name for params, _ in cases for name in params}
        assert "q" in used
        for spec in unfiltered.filter_specs:
            assert used & set(spec.expected_parameters()), f"no case uses {spec.title}"

    return check


PAGE_CACHE_REDIS = "redis://127.0.0.1:6379/5"


@pytest.fixture
def page_cache(settings, monkeypatch):
    """`CACHES["aggregates"]` (the page cache's, coop/page_cache.py) on Redis, as in
    production, under a key prefix of this test's own, removed afterwards; with no Redis
    answering at `PAGE_CACHE_REDIS`, a memory cache (the same behaviour in one process).
    The minute in the pages' keys is pinned to the test's first, so that two requests a test
    expects to be one page are not two when they straddle a minute. Returns the cache."""
    import uuid

    from django.core.cache import caches

    from coop import page_cache as module

    minute = module.current_minute()
    monkeypatch.setattr(module, "current_minute", lambda: minute)

    prefix = f"coop-test-{uuid.uuid4().hex}"
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": PAGE_CACHE_REDIS,
        "KEY_PREFIX": prefix,
    }
    settings.CACHES = {**settings.CACHES, "aggregates": redis}
    cache = caches["aggregates"]
    try:
        cache.set("ping", 1)
    except Exception:
        memory = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
        settings.CACHES = {**settings.CACHES, "aggregates": memory}
        yield caches["aggregates"]
        return
    yield cache
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
