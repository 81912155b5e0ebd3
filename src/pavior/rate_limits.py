"""Request rate limits: fixed-window counters kept in a cache every process shares.

Each limit allows `requests` calls per window (`PAVIOR_RATE_LIMIT_WINDOW`
seconds, default 60) for one subject (an app_id, a client address, an API
key). A call over the limit is refused with 429 and `Retry-After`: the
seconds until the window ends. Counters live in the `rate_limits` cache
(settings.py): Redis when `REDIS_URL` is set (INCR is atomic, every process
and machine agrees), else pavior.counter_cache's locked counter files in the
data dir, so several `pavior serve --workers N` processes on one machine count
together. Subjects are hashed into the key, so no API key or
address is written to the cache in clear.

A fixed window lets a client send up to twice the limit across a window
boundary; that is accepted for simplicity (the limits stop floods, they do
not meter).

Callers pass the client address they already computed from the trusted-proxy
rule; this module knows nothing of requests, so it sits low in the imports.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

from pavior.counter_cache import CounterFileCache

CACHE = "rate_limits"


class RateLimited(Exception):  # noqa: N818 - the name says what happened, as Http404 does
    """A limit was reached; `retry_after` is the number of seconds to wait."""

    def __init__(self, retry_after: int, what: str):
        super().__init__(retry_after, what)
        self.retry_after = retry_after
        self.what = what

    @property
    def message(self) -> str:
        return f"Too many requests ({self.what}); retry after {self.retry_after} seconds"


_process_cache: tuple[Any, BaseCache] | None = None


def _cache() -> BaseCache:
    """One cache object for the whole process.

    Not `caches[CACHE]`: Django keeps its cache objects per asyncio task under
    ASGI, so every request would make a new one, and with it a new Redis
    connection pool (a TCP connect per request) or a counter-file cache that
    sweeps its directory at once. Made again if the settings change (tests).
    """
    global _process_cache
    conf = settings.CACHES[CACHE]
    current = _process_cache
    if current is None or current[0] is not conf:
        current = (conf, caches.create_connection(CACHE))
        _process_cache = current
    return current[1]


def _count(keys: list[str], timeout: int) -> list[int]:
    """Add one to each counter (created with `timeout` when new); their new values.

    Redis: one round trip for all of them (SET NX EX then INCR: atomic per key).
    The counter-file cache: one locked file update each. Any other cache:
    add then incr.
    """
    cache = _cache()
    if isinstance(cache, RedisCache):
        names = [cache.make_and_validate_key(k) for k in keys]
        pipe = _redis_client(cache).pipeline(transaction=False)
        for name in names:
            pipe.set(name, 0, ex=timeout, nx=True)
            pipe.incr(name)
        return [int(v) for v in pipe.execute()[1::2]]
    if isinstance(cache, CounterFileCache):
        return [cache.incr_or_start(k, timeout) for k in keys]
    counts = []
    for k in keys:
        cache.add(k, 0, timeout=timeout)
        try:
            counts.append(cache.incr(k))
        except ValueError:  # expired between add and incr: this call opens a new counter
            cache.add(k, 1, timeout=timeout)
            counts.append(1)
    return counts


def _redis_client(cache: RedisCache) -> Any:
    """The cache's Redis client, made once per cache object (Django makes a new
    client object on every call, which costs more than the round trip)."""
    client = getattr(cache, "_pavior_client", None)
    if client is None:
        client = cache._cache.get_client(write=True)
        cache._pavior_client = client  # type: ignore[attr-defined]
    return client


def _wait(*checks: tuple[str, str, int]) -> int:
    """Count one call against each (name, subject, limit); 0 when every one allows
    it, else the seconds until the window ends (the Retry-After)."""
    if not settings.PAVIOR_RATE_LIMITS:
        return 0
    checks = tuple(c for c in checks if c[1] and c[2] > 0)
    if not checks:
        return 0
    window = max(1, settings.PAVIOR_RATE_LIMIT_WINDOW)
    now = time.time()
    start = math.floor(now / window) * window
    keys = [f"rl:{name}:{_digest(subject)}:{int(start)}" for name, subject, _ in checks]
    # The counters outlive their window a little: a late call still finds its own.
    counts = _count(keys, window + 2)
    if all(n <= limit for n, (_, _, limit) in zip(counts, checks, strict=True)):
        return 0
    return max(1, math.ceil(start + window - now))


def _digest(subject: str) -> str:
    return hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def check_tracking(key: str, address: str) -> int:
    """The snippet's intake and Segment calls made with the app_id: per key and per address.

    Returns 0 to go on, else the Retry-After seconds.
    """
    return _wait(
        ("track-key", key, settings.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY),
        ("track-addr", address, settings.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS),
    )


def check_api_key(key: str) -> int:
    """REST and server-side Segment calls made with a secret API key: per key only,
    since a backend sends everything from one address."""
    return _wait(("api-key", key, settings.PAVIOR_RATE_LIMIT_API_PER_KEY))


def check_sign_in(address: str) -> int:
    """Sign-in attempts (POSTs) per client address, right or wrong password alike;
    failures also lock the account (django-axes, PAVIOR_LOGIN_FAILURE_LIMIT)."""
    return _wait(("sign-in", address, settings.PAVIOR_RATE_LIMIT_SIGN_IN_PER_ADDRESS))


def check_unsubscribe(address: str) -> int:
    """For the unsubscribe links' endpoints (email, to come): per client address."""
    return _wait(("unsubscribe", address, settings.PAVIOR_RATE_LIMIT_UNSUBSCRIBE_PER_ADDRESS))


def error_body(retry_after: int, what: str) -> dict[str, object]:
    """The JSON body of a 429, in the house error shape."""
    message = RateLimited(retry_after, what).message
    return {"error": {"code": "rate_limited", "message": message, "field": None}}


def refusal(retry_after: int, what: str) -> tuple[dict[str, object], list[tuple[bytes, bytes]]]:
    """A 429's body and its Retry-After header, for the pure-ASGI intake."""
    return error_body(retry_after, what), [(b"retry-after", str(retry_after).encode())]
