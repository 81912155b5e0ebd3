"""Per-operation cost of the SQLite cache (pavior.sqlite_cache) next to Django's
local-memory cache, measured in the same run on the same values.

    PYTHONPATH=src python bench/web/sqlite_cache.py [--repeats 15] [--ops 2000]

The operations are the ones Pavior makes on a hot path: get_many of two keys
(a tracking answer's candidates: the workspace's version and the user's entry),
get of one key (a user's live attributes), set_many of N live states (one per
user of a tracking flush), incr (an attribute-use count), and a new cache object
per call (Django makes one per asyncio task under ASGI). Also the cost of a
thread's first call, which opens its connection (a new thread per request runs
Django's sync code under ASGI). Each figure is the median over --repeats batches
of --ops calls, in µs per call; the cache file is on a fresh temporary dir.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

settings.configure()  # the backends need no settings; LocMemCache reads none either

from django.core.cache.backends.locmem import LocMemCache  # noqa: E402

from pavior.sqlite_cache import SQLiteCache  # noqa: E402

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp()


def live_state(i: int) -> dict[str, Any]:
    """A live state as pavior.tracking.live keeps it."""
    return {
        "visit_started_at": NOW - 300,
        "page_started_at": NOW - 20,
        "url": f"https://shop.example/products/{i}?ref=newsletter",
        "interacted": True,
        "last_at": NOW,
        "hidden_at": None,
    }


# A user's candidates entry as pavior.messaging.targeting keeps it.
ENTRY = (("app_0123456789abcdef", 7, "Europe/Paris"), ("pro", 3), None, (1, 2, 5), frozenset({4}))


def per_call_us(fn: Callable[[], Any], ops: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ops):
            fn()
        times.append((time.perf_counter() - start) / ops * 1e6)
    return statistics.median(times)


def first_call_us(make: Callable[[], Any], repeats: int) -> float:
    """A get in a new thread (its first call), median over `repeats` threads."""
    times: list[float] = []

    def run() -> None:
        cache = make()
        start = time.perf_counter()
        cache.get("version")
        times.append((time.perf_counter() - start) * 1e6)

    for _ in range(repeats):
        t = threading.Thread(target=run)
        t.start()
        t.join()
    return statistics.median(times)


def measure(make: Callable[[], Any], ops: int, repeats: int) -> dict[str, float]:
    cache = make()
    cache.clear()
    cache.set("version", 7, timeout=None)
    cache.set("entry", ENTRY, timeout=3600)
    cache.set("live", live_state(0), timeout=1800)
    cache.add("uses", 0, timeout=None)
    out = {
        "get_many(2 keys)": per_call_us(lambda: cache.get_many(["version", "entry"]), ops, repeats),
        "get(live state)": per_call_us(lambda: cache.get("live"), ops, repeats),
        "new object + get": per_call_us(lambda: make().get("live"), ops, repeats),
        "incr": per_call_us(lambda: cache.incr("uses"), ops, repeats),
    }
    for n in (1, 10, 100):
        batch = {f"live:{i}": live_state(i) for i in range(n)}
        calls = max(20, ops // n)
        out[f"set_many({n})"] = per_call_us(
            lambda batch=batch: cache.set_many(batch, timeout=1800), calls, repeats
        )
    out["first call of a thread"] = first_call_us(make, repeats * 10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="pavior-cache-bench-")) / "cache.sqlite3"
    results = {
        "LocMemCache": measure(lambda: LocMemCache("bench", {}), args.ops, args.repeats),
        "SQLiteCache": measure(lambda: SQLiteCache(str(path), {}), args.ops, args.repeats),
    }
    print(f"µs per call, median of {args.repeats} batches of {args.ops} calls")
    print(f"{'operation':<24}{'LocMem':>10}{'SQLite':>10}{'ratio':>8}")
    for op in results["LocMemCache"]:
        mem, lite = results["LocMemCache"][op], results["SQLiteCache"][op]
        print(f"{op:<24}{mem:>10.1f}{lite:>10.1f}{lite / mem:>8.1f}")


if __name__ == "__main__":
    main()
