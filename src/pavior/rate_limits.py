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

The tracking intake counts on its event loop through `check_tracking_async`
and `check_api_key_async`: the calls of one moment share one update of each
counter, off the loop (see _Grouped), exact as one at a time. Everything else
counts one call at a time.

A fixed window lets a client send up to twice the limit across a window
boundary; that is accepted for simplicity (the limits stop floods, they do
not meter).

Callers pass the client address they already computed from the trusted-proxy
rule; this module knows nothing of requests, so it sits low in the imports.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from concurrent.futures import ThreadPoolExecutor
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


def _add(deltas: dict[str, int], timeout: int) -> dict[str, int]:
    """Add to each counter (created with `timeout` when new); their new values.

    Redis: one round trip for all of them (SET NX EX then INCRBY: atomic per
    key). The counter-file cache: one locked file update each. Any other
    cache: add then incr.
    """
    cache = _cache()
    if isinstance(cache, RedisCache):
        pipe = _redis_client(cache).pipeline(transaction=False)
        for key, n in deltas.items():
            name = cache.make_and_validate_key(key)
            pipe.set(name, 0, ex=timeout, nx=True)
            pipe.incrby(name, n)
        values = pipe.execute()[1::2]
        return {key: int(v) for key, v in zip(deltas, values, strict=True)}
    if isinstance(cache, CounterFileCache):
        return {key: cache.incr_or_start(key, timeout, n) for key, n in deltas.items()}
    counts = {}
    for key, n in deltas.items():
        cache.add(key, 0, timeout=timeout)
        try:
            counts[key] = cache.incr(key, n)
        except ValueError:  # expired between add and incr: these calls open a new counter
            cache.add(key, n, timeout=timeout)
            counts[key] = n
    return counts


def _count(keys: list[str], timeout: int) -> list[int]:
    """Add one to each counter; their new values."""
    values = _add(dict.fromkeys(keys, 1), timeout)
    return [values[k] for k in keys]


class _Grouped:
    """The event loop's calls, counted together: every call made while the
    previous update is in flight goes into the next one, which adds each
    counter's number of calls at once (one Redis round trip, one locked file
    update per counter) on a thread of its own, so the loop never waits on
    Redis or a file lock. Exact as one call at a time: the calls of a group
    take the counter's values one after another, in the order they came."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[list[str], int, asyncio.Future[list[int]]]] = []
        self.busy = False

    def count(self, keys: list[str], timeout: int) -> asyncio.Future[list[int]]:
        future: asyncio.Future[list[int]] = self.loop.create_future()
        self.waiting.append((keys, timeout, future))
        if not self.busy:
            self.busy = True
            self.loop.call_soon(self._next)
        return future

    def _next(self) -> None:
        group, self.waiting = self.waiting, []
        if not group:
            self.busy = False
            return
        deltas: dict[tuple[str, int], int] = {}
        for keys, timeout, _ in group:
            for key in keys:
                deltas[(key, timeout)] = deltas.get((key, timeout), 0) + 1
        done = self.loop.run_in_executor(_executor(), _add_grouped, deltas)
        done.add_done_callback(lambda f: self._answer(group, deltas, f))

    def _answer(
        self,
        group: list[tuple[list[str], int, asyncio.Future[list[int]]]],
        deltas: dict[tuple[str, int], int],
        done: asyncio.Future[dict[tuple[str, int], int]],
    ) -> None:
        error = done.exception()
        if error is None:
            values = done.result()
            # The group's calls on one counter took its last `delta` values.
            nxt = {k: values[k] - deltas[k] for k in deltas}
            for keys, timeout, future in group:
                counts = []
                for key in keys:
                    nxt[(key, timeout)] += 1
                    counts.append(nxt[(key, timeout)])
                if not future.done():
                    future.set_result(counts)
        else:
            for _, _, future in group:
                if not future.done():
                    future.set_exception(error)
        self._next()


def _add_grouped(deltas: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
    by_timeout: dict[int, dict[str, int]] = {}
    for (key, timeout), n in deltas.items():
        by_timeout.setdefault(timeout, {})[key] = n
    values: dict[tuple[str, int], int] = {}
    for timeout, part in by_timeout.items():
        for key, value in _add(part, timeout).items():
            values[(key, timeout)] = value
    return values


_groups: dict[asyncio.AbstractEventLoop, _Grouped] = {}
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pavior-rate-limits")
    return _pool


async def _count_async(keys: list[str], timeout: int) -> list[int]:
    loop = asyncio.get_running_loop()
    group = _groups.get(loop)
    if group is None:
        _groups.clear()  # a loop of the past (tests) is done with
        group = _groups[loop] = _Grouped(loop)
    return await group.count(keys, timeout)


def _redis_client(cache: RedisCache) -> Any:
    """The cache's Redis client, made once per cache object (Django makes a new
    client object on every call, which costs more than the round trip)."""
    client = getattr(cache, "_pavior_client", None)
    if client is None:
        client = cache._cache.get_client(write=True)
        cache._pavior_client = client  # type: ignore[attr-defined]
    return client


def _window(checks: tuple[tuple[str, str, int], ...]) -> tuple[list[str], int, float, float]:
    """The checks' counter keys for the current window, their timeout, its start, now."""
    window = max(1, settings.PAVIOR_RATE_LIMIT_WINDOW)
    now = time.time()
    start = math.floor(now / window) * window
    keys = [f"rl:{name}:{_digest(subject)}:{int(start)}" for name, subject, _ in checks]
    # The counters outlive their window a little: a late call still finds its own.
    return keys, window + 2, start + window, now


def _active(checks: tuple[tuple[str, str, int], ...]) -> tuple[tuple[str, str, int], ...]:
    if not settings.PAVIOR_RATE_LIMITS:
        return ()
    return tuple(c for c in checks if c[1] and c[2] > 0)


def _verdict(
    counts: list[int], checks: tuple[tuple[str, str, int], ...], end: float, now: float
) -> int:
    if all(n <= limit for n, (_, _, limit) in zip(counts, checks, strict=True)):
        return 0
    return max(1, math.ceil(end - now))


def _wait(*checks: tuple[str, str, int]) -> int:
    """Count one call against each (name, subject, limit); 0 when every one allows
    it, else the seconds until the window ends (the Retry-After)."""
    checks = _active(checks)
    if not checks:
        return 0
    keys, timeout, end, now = _window(checks)
    return _verdict(_count(keys, timeout), checks, end, now)


async def _wait_async(*checks: tuple[str, str, int]) -> int:
    """_wait for the event loop: counted with the loop's other calls (_Grouped)."""
    checks = _active(checks)
    if not checks:
        return 0
    keys, timeout, end, now = _window(checks)
    return _verdict(await _count_async(keys, timeout), checks, end, now)


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


async def check_tracking_async(key: str, address: str) -> int:
    """check_tracking for the intake's event loop (same counters, never blocks it)."""
    return await _wait_async(
        ("track-key", key, settings.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY),
        ("track-addr", address, settings.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS),
    )


async def check_api_key_async(key: str) -> int:
    """check_api_key for the intake's event loop."""
    return await _wait_async(("api-key", key, settings.PAVIOR_RATE_LIMIT_API_PER_KEY))


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
