"""The forecast page's aggregates are cached, and any write to their sources invalidates them
once it commits (coop/cache.py, finance/receivers.py)."""

import datetime

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coop.cache import aggregates_changed, cached_aggregate
from tests.finance.factories import RevenueEntryFactory, generate_forecast

pytestmark = pytest.mark.django_db

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)
MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "aggregates"}


@pytest.fixture
def one_process_cache(settings):
    """A memory cache for the aggregates: right for a single process, as in a test."""
    settings.CACHES = {**settings.CACHES, "aggregates": MEMORY}
    caches["aggregates"].clear()


@pytest.fixture
def forecast(manager, team, make_deal):
    make_deal(value_cents=100_000, title="Solar roof")
    return generate_forecast(manager, team)


def _page(client, forecast):
    with CaptureQueriesContext(connection) as queries:
        text = client.get(reverse("finance:detail", args=[forecast.pk])).text
    return text, len(queries)


def test_a_second_view_reads_the_aggregates_from_the_cache(
    one_process_cache, client, manager, forecast
):
    client.force_login(manager)
    first, first_queries = _page(client, forecast)
    second, second_queries = _page(client, forecast)
    assert second_queries < first_queries
    for page in (first, second):
        assert "Solar roof" in page
        assert 'id="kpis-heading"' in page and 'id="past-heading"' in page


def test_new_revenue_shows_at_once_despite_the_cache(
    one_process_cache, client, manager, team, forecast, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    before, _ = _page(client, forecast)
    assert "€700.00" not in before
    with django_capture_on_commit_callbacks(execute=True):
        RevenueEntryFactory(team=team, booked_on=datetime.date(2026, 1, 20), amount_cents=70_000)
    after, _ = _page(client, forecast)
    assert "€700.00" in after


def test_the_generation_moves_only_when_the_write_commits(
    one_process_cache, django_capture_on_commit_callbacks
):
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    assert cached_aggregate("test", ("k",), compute) == 1
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        aggregates_changed("test")
        raise RuntimeError("rolled back")
    assert callbacks == []
    assert cached_aggregate("test", ("k",), compute) == 1
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        aggregates_changed("test")
    assert cached_aggregate("test", ("k",), compute) == 2


def test_a_lost_generation_never_brings_older_figures_back(
    one_process_cache, django_capture_on_commit_callbacks
):
    computed = []

    def compute():
        computed.append(1)
        return len(computed)

    assert cached_aggregate("test", ("k",), compute) == 1
    with django_capture_on_commit_callbacks(execute=True):
        aggregates_changed("test")
    assert cached_aggregate("test", ("k",), compute) == 2
    caches["aggregates"].delete("aggregates:test:generation")  # as if evicted
    assert cached_aggregate("test", ("k",), compute) == 3


def test_without_a_shared_cache_nothing_is_cached(client, manager, forecast):
    """Without Redis each process would have its own cache, blind to the others' writes."""
    client.force_login(manager)
    _first, first_queries = _page(client, forecast)
    _second, second_queries = _page(client, forecast)
    assert second_queries == first_queries


def _redis_cache():
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": "coop-test",
    }
    settings = {**django_settings.CACHES, "default": redis, "aggregates": redis}
    with override_settings(CACHES=settings):
        try:
            caches["default"].set("ping", 1)
        except Exception as error:
            pytest.skip(f"no Redis at 127.0.0.1:6379: {error}")
    return settings


def test_with_redis_the_aggregates_are_shared_and_invalidated(
    client, manager, team, forecast, django_capture_on_commit_callbacks
):
    with override_settings(CACHES=_redis_cache()):
        caches["default"].clear()
        client.force_login(manager)
        _page(client, forecast)
        _cached, cached_queries = _page(client, forecast)
        with django_capture_on_commit_callbacks(execute=True):
            RevenueEntryFactory(
                team=team, booked_on=datetime.date(2026, 1, 20), amount_cents=70_000
            )
        fresh, fresh_queries = _page(client, forecast)
        assert "€700.00" in fresh
        assert fresh_queries > cached_queries
        caches["default"].clear()
