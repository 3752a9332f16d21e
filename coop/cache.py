"""Cached dashboard aggregates with generational invalidation.

Aggregates (sums and ratios over many rows) are cached under a *generation* per namespace. A
write that can change them calls `aggregates_changed(namespace)`, which replaces the
generation once its transaction commits: every cached value of the old generation is never
read again (it expires on its own), so no reader sees figures older than the last committed
write. Generations are random, so one lost from the cache (evicted) is replaced by a new one,
never by an old one whose values may still be stored.

The cache is `CACHES["aggregates"]`: Redis, shared by every process, when `REDIS_URL` is set;
otherwise nothing is cached, since a per-process cache could not see another process's
invalidation.
"""

import hashlib
import uuid
from collections.abc import Callable, Hashable

from django.core.cache import caches
from django.db import transaction

AGGREGATE_CACHE = "aggregates"
AGGREGATE_TIMEOUT = 600  # seconds; a bound on memory, not on staleness


def _generation_key(namespace: str) -> str:
    return f"aggregates:{namespace}:generation"


def _new_generation() -> str:
    return uuid.uuid4().hex


def cached_aggregate[T](namespace: str, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The value of `compute()` for `key`, from the cache when this generation has it."""
    cache = caches[AGGREGATE_CACHE]
    generation = cache.get_or_set(_generation_key(namespace), _new_generation, timeout=None)
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    cache_key = f"aggregates:{namespace}:{generation}:{digest}"
    return cache.get_or_set(cache_key, compute, timeout=AGGREGATE_TIMEOUT)


def _bump(namespace: str) -> None:
    caches[AGGREGATE_CACHE].set(_generation_key(namespace), _new_generation(), timeout=None)


def aggregates_changed(namespace: str) -> None:
    """Invalidate the namespace's cached aggregates when the current transaction commits
    (at once outside a transaction)."""
    transaction.on_commit(lambda: _bump(namespace))
