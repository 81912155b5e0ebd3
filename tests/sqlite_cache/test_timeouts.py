"""Timeouts on the SQLite cache as in Django's backends: None keeps a value
forever, 0 (or less) does not keep it, a value is gone once its time is up
(whatever reads it: get, get_many, has_key, add, incr, touch), and expired
rows are swept from the file.

Independent of the machine's speed: a value is checked present only while
the clock says it cannot have expired yet, and absent only once the clock
is past the latest expiry it can have."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from pavior import sqlite_cache
from pavior.sqlite_cache import SQLiteCache
from tests.sqlite_cache.conftest import open_cache

SHORT = 1.0


class Window:
    """When values written inside `with window.writing():` expire, SHORT seconds
    on: not before `start + SHORT`, surely after `end + SHORT`."""

    def __init__(self) -> None:
        self.start = self.end = 0.0

    @contextmanager
    def writing(self) -> Iterator[None]:
        self.start = time.time()
        yield
        self.end = time.time()

    def not_expired_yet(self) -> bool:
        return time.time() < self.start + SHORT

    def wait_until_expired(self) -> None:
        while time.time() <= self.end + SHORT + 0.01:
            time.sleep(0.05)


def rows(path: Path) -> dict[str, Any]:
    with closing(sqlite3.connect(path)) as db:
        return dict(db.execute("SELECT key, expires FROM cache").fetchall())


def test_none_keeps_a_value_forever(sc: SQLiteCache, cache_file: Path) -> None:
    sc.set("set", 1, timeout=None)
    sc.set_many({"many": 2}, timeout=None)
    sc.add("add", 3, timeout=None)
    sc.set("touched", 4, timeout=60)
    assert sc.touch("touched", timeout=None)
    assert sc.incr("add") == 4
    assert rows(cache_file) == {":1:set": None, ":1:many": None, ":1:add": None, ":1:touched": None}
    assert open_cache(cache_file, TIMEOUT=None).add("default", 5)  # TIMEOUT None: the default
    assert rows(cache_file)[":1:default"] is None


@pytest.mark.parametrize("timeout", [0, -1, -0.5])
def test_zero_or_less_keeps_nothing(sc: SQLiteCache, timeout: float) -> None:
    sc.set_many({"a": "old", "b": "old", "c": "old"}, timeout=None)
    sc.set("a", "new", timeout=timeout)
    sc.set_many({"b": "new", "fresh": "new"}, timeout=timeout)
    assert sc.get_many(["a", "b", "fresh"]) == {}  # the old values went too
    assert sc.touch("c", timeout=timeout) is True
    assert sc.get("c") is None and not sc.has_key("c")
    assert sc.add("added", 1, timeout=timeout) is True  # as Django's: stored, already expired
    assert sc.get("added") is None
    with pytest.raises(ValueError):
        sc.incr("added")


def test_values_are_gone_when_their_time_is_up(sc: SQLiteCache, cache_file: Path) -> None:
    sc.set_many({"touched_long": 1, "touched_short": 1}, timeout=None)
    sc.add("counter", 10, timeout=None)
    window = Window()
    with window.writing():
        sc.set("set", 1, timeout=SHORT)
        sc.set_many({"many1": 1, "many2": 2}, timeout=SHORT)
        sc.add("add", 1, timeout=SHORT)
        sc.add("incr", 1, timeout=SHORT)
        sc.set("kept", 1, timeout=SHORT)
        sc.touch("touched_short", timeout=SHORT)
        open_cache(cache_file, TIMEOUT=SHORT).set("default_timeout", 1)  # TIMEOUT: the default
    assert sc.touch("kept", timeout=60)  # moved on before it expired...
    assert sc.incr("incr") == 2  # ...while incr keeps the time it had
    every = ["set", "many1", "many2", "add", "incr", "touched_short"]
    if window.not_expired_yet():
        assert sc.get_many(every) == {"set": 1, "many1": 1, "many2": 2, "add": 1, "incr": 2,
                                      "touched_short": 1}  # fmt: skip
        assert sc.add("add", 2, timeout=SHORT) is False
        assert open_cache(cache_file, TIMEOUT=SHORT).get("default_timeout") == 1
    window.wait_until_expired()
    assert sc.get_many(every) == {}
    for key in every:
        assert sc.get(key, "gone") == "gone"
        assert not sc.has_key(key)
        assert sc.touch(key, timeout=60) is False
    assert open_cache(cache_file, TIMEOUT=SHORT).get("default_timeout") is None
    with pytest.raises(ValueError):
        sc.incr("incr")
    assert sc.add("add", 2, timeout=None) is True  # the expired value does not block add
    assert sc.get("add") == 2
    assert sc.get_many(["kept", "touched_long", "counter"]) == {
        "kept": 1,
        "touched_long": 1,
        "counter": 10,
    }


def test_expired_rows_are_swept_from_the_file(
    sc: SQLiteCache, cache_file: Path, monkeypatch: Any
) -> None:
    sc.set_many({"forever": 1}, timeout=None)
    sc.set_many({"long": 1}, timeout=3600)
    window = Window()
    with window.writing():
        sc.set_many({f"short{i}": i for i in range(100)}, timeout=SHORT)
    window.wait_until_expired()
    monkeypatch.setattr(sqlite_cache, "SWEEP_EVERY_SECONDS", 0)
    sc.set("trigger", 1)  # a write sweeps, at most once a SWEEP_EVERY_SECONDS
    assert set(rows(cache_file)) == {":1:forever", ":1:long", ":1:trigger"}
