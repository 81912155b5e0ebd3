"""Every cache method Pavior or Django calls, on the SQLite cache: what it
returns and what it leaves behind, as Django's own backends do."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import CacheKeyWarning

from pavior.sqlite_cache import SQLiteCache
from tests.sqlite_cache.conftest import open_cache


def test_get_and_set(sc: SQLiteCache) -> None:
    assert sc.get("a") is None
    assert sc.get("a", "fallback") == "fallback"
    sc.set("a", 1)
    assert sc.get("a") == 1
    sc.set("a", 2)  # replaces
    assert sc.get("a") == 2
    sc.set("none", None)  # a stored None is a value, not a miss
    assert sc.has_key("none") and sc.get("none", "fallback") is None


def test_add_only_when_missing(sc: SQLiteCache) -> None:
    assert sc.add("a", 1) is True
    assert sc.add("a", 2) is False
    assert sc.get("a") == 1


def test_get_many_and_set_many(sc: SQLiteCache) -> None:
    assert sc.set_many({"a": 1, "b": [2], "c": {"x": 3}}) == []  # nothing failed
    assert sc.get_many(["a", "b", "missing", "c", "a"]) == {"a": 1, "b": [2], "c": {"x": 3}}
    assert sc.get_many([]) == {}
    assert sc.set_many({}) == []
    # More keys than one statement reads (the backend reads in chunks).
    many = {f"k{i}": i for i in range(1234)}
    sc.set_many(many)
    assert sc.get_many(list(many)) == many


def test_delete_and_delete_many(sc: SQLiteCache) -> None:
    sc.set_many({"a": 1, "b": 2, "c": 3})
    assert sc.delete("a") is True
    assert sc.delete("a") is False  # already gone
    sc.delete_many(["b", "missing"])
    sc.delete_many([])
    assert sc.get_many(["a", "b", "c"]) == {"c": 3}


def test_incr_and_decr(sc: SQLiteCache) -> None:
    with pytest.raises(ValueError):
        sc.incr("missing")  # as Django's backends: the caller adds it first
    assert not sc.has_key("missing")
    sc.add("n", 0, timeout=None)
    assert sc.incr("n") == 1
    assert sc.incr("n", 10) == 11
    assert sc.decr("n", 3) == 8
    assert sc.get("n") == 8
    with pytest.raises(ValueError):
        sc.decr("missing")


def test_a_failed_incr_changes_nothing(sc: SQLiteCache) -> None:
    sc.set("text", "abc")
    with pytest.raises(TypeError):
        sc.incr("text")
    assert sc.get("text") == "abc"
    sc.set("n", 1)  # the connection is still usable: its transaction was rolled back
    assert sc.incr("n") == 2


def test_has_key_touch_and_clear(sc: SQLiteCache) -> None:
    assert sc.has_key("a") is False
    assert sc.touch("a") is False
    sc.set("a", 1)
    assert sc.has_key("a") is True
    assert sc.touch("a", timeout=None) is True
    sc.clear()
    assert sc.has_key("a") is False and sc.get_many(["a"]) == {}


def test_get_or_set_and_versions(sc: SQLiteCache) -> None:
    assert sc.get_or_set("a", lambda: 5) == 5
    assert sc.get_or_set("a", 6) == 5
    sc.set("v", "one", version=1)
    sc.set("v", "two", version=2)
    assert sc.get("v") == "one" and sc.get("v", version=2) == "two"
    sc.delete("v", version=2)
    assert sc.get("v") == "one" and sc.get("v", version=2) is None
    assert sc.incr_version("v") == 2  # moves the value to the next version
    assert sc.get("v") is None and sc.get("v", version=2) == "one"


def test_key_prefix_and_version_keep_two_caches_apart_in_one_file(cache_file: Path) -> None:
    """settings.py puts "default" and "candidates" (KEY_PREFIX "pavior") in one file."""
    default = open_cache(cache_file)
    candidates = open_cache(cache_file, KEY_PREFIX="pavior")
    versioned = open_cache(cache_file, VERSION=2)
    default.set("k", "default")
    candidates.set("k", "candidates")
    versioned.set("k", "v2")
    assert (default.get("k"), candidates.get("k"), versioned.get("k")) == (
        "default",
        "candidates",
        "v2",
    )
    assert candidates.get_many(["k"]) == {"k": "candidates"}
    candidates.add("n", 0)
    with pytest.raises(ValueError):
        default.incr("n")
    assert candidates.incr("n") == 1
    default.delete("k")
    assert candidates.get("k") == "candidates"
    # A second object on the same file and settings sees the same entries
    # (Django makes one per asyncio task).
    assert open_cache(cache_file, KEY_PREFIX="pavior").get("k") == "candidates"


def test_values_of_what_targeting_and_live_attributes_store(sc: SQLiteCache) -> None:
    at = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    values: dict[str, Any] = {
        # A live state (tracking.live) and a candidates entry (messaging.targeting).
        "live": {"visit_started_at": at.timestamp(), "url": "https://s.io/é", "hidden_at": None},
        "entry": (("app_x", 3, "Europe/Paris"), (("plan", "pro"),), None, (1, 2), frozenset({7})),
        "dates": {"at": at, "list": [at, None, 1.5, True]},
        "bytes": b"\x00\xff",
        "big": 2**70,
        "text": "a\x00b\u2028\U0001f600",
        "empty": "",
        "nested": {"a": {"b": {"c": [set(), (), {}]}}},
    }
    sc.set_many(values)
    assert sc.get_many(list(values)) == values
    for key, value in values.items():
        assert sc.get(key) == value
        assert type(sc.get(key)) is type(value)


def test_keys_django_warns_about_still_work(sc: SQLiteCache) -> None:
    """Spaces, control characters, non-ASCII and keys over 250 characters: Django
    warns (memcached would refuse them), the SQLite cache keeps them apart."""
    keys = ["with space", "tab\there", "ctrl\x01", "é/ü:ß", "x" * 300, "x" * 301]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheKeyWarning)
        for i, key in enumerate(keys):
            sc.set(key, i)
        assert sc.get_many(keys) == {k: i for i, k in enumerate(keys)}
        assert sc.add(keys[0], "again") is False
        assert sc.delete(keys[1]) is True
        assert sc.get(keys[1]) is None
    with pytest.warns(CacheKeyWarning):
        sc.get("with space")
