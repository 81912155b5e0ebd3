"""One SQLite connection per thread and file, whatever the number of cache
objects: Django makes a new one for every asyncio task under ASGI (every
request), and a connection per object would be opened on every request.
Threads each use their own and their writes do not lose one another's."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from django.core.cache import CacheHandler

from pavior.sqlite_cache import SQLiteCache
from tests.sqlite_cache.conftest import open_cache


def counting_connects(monkeypatch: Any, path: Path) -> list[int]:
    """sqlite3.connect, still real, counting the connections opened on `path`."""
    opened: list[int] = []
    real = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if str(database) == str(path):
            opened.append(threading.get_ident())
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    return opened


def test_a_cache_object_per_asyncio_task_shares_the_threads_connection(
    cache_file: Path, monkeypatch: Any
) -> None:
    opened = counting_connects(monkeypatch, cache_file)
    handler = CacheHandler(
        {"x": {"BACKEND": "pavior.sqlite_cache.SQLiteCache", "LOCATION": str(cache_file)}}
    )
    objects: list[Any] = []

    async def request(i: int) -> None:
        cache = handler["x"]  # what `caches["x"]` gives a request under ASGI
        objects.append(cache)
        cache.set(f"k{i}", i)
        assert cache.get(f"k{i}") == i

    async def serve() -> None:
        await asyncio.gather(*(request(i) for i in range(50)))

    asyncio.run(serve())
    assert len({id(o) for o in objects}) == 50  # one object per task, as Django does
    assert len(opened) == 1
    for _ in range(20):
        open_cache(cache_file).get("k1")
    assert len(opened) == 1


def test_threads_use_their_own_connections_and_lose_no_increment(
    cache_file: Path, monkeypatch: Any
) -> None:
    opened = counting_connects(monkeypatch, cache_file)
    open_cache(cache_file).add("n", 0, timeout=None)
    threads, calls = 6, 150
    errors: list[BaseException] = []
    # All alive at once: a thread that ended could hand its ident to a later one.
    together = threading.Barrier(threads)

    def count() -> None:
        together.wait(30)
        cache = open_cache(cache_file)
        try:
            for _ in range(calls):
                cache.incr("n")
        except BaseException as e:  # noqa: BLE001 (reported by the assertion below)
            errors.append(e)

    workers = [threading.Thread(target=count) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert open_cache(cache_file).get("n") == threads * calls
    assert len(set(opened)) == len(opened) == threads + 1  # this thread's, and one each


def test_separate_files_are_separate_caches(tmp_path: Path) -> None:
    one: SQLiteCache = open_cache(tmp_path / "one.sqlite3")
    two: SQLiteCache = open_cache(tmp_path / "sub" / "two.sqlite3")  # made on first use
    one.set("k", 1)
    two.set("k", 2)
    assert (one.get("k"), two.get("k")) == (1, 2)
