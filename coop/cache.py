"""Cached dashboard aggregates with generational invalidation.

Aggregates (sums and ratios over many rows) are cached under a *generation* number per
namespace. A write that can change them calls `aggregates_changed(namespace)`, which bumps
the generation once its transaction commits: every cached value of the old generation is
never read again (it expires on its own), so no reader sees figures older than the last
committed write, in any process, with Redis (`REDIS_URL`) or the per-process memory cache.
"""

import hashlib
from collections.abc import Callable, Hashable

from django.core.cache import cache
from django.db import transaction

AGGREGATE_TIMEOUT = 600  # seconds; a bound on memory, not on staleness


def _generation_key(namespace: str) -> str:
    return f"aggregates:{namespace}:generation"


def _generation(namespace: str) -> int:
    return cache.get_or_set(_generation_key(namespace), 1, timeout=None)


def cached_aggregate[T](namespace: str, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The value of `compute()` for `key`, from the cache when this generation has it."""
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    cache_key = f"aggregates:{namespace}:{_generation(namespace)}:{digest}"
    return cache.get_or_set(cache_key, compute, timeout=AGGREGATE_TIMEOUT)


def _bump(namespace: str) -> None:
    try:
        cache.incr(_generation_key(namespace))
    except ValueError:  # no generation stored yet (or it was evicted): start a new one
        cache.set(_generation_key(namespace), _generation(namespace) + 1, timeout=None)


def aggregates_changed(namespace: str) -> None:
    """Invalidate the namespace's cached aggregates when the current transaction commits
    (at once outside a transaction)."""
    transaction.on_commit(lambda: _bump(namespace))
