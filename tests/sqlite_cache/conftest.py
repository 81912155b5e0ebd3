"""The SQLite cache (pavior.sqlite_cache) on a file of the test's own, so the
tests do not depend on settings or on what another test left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pavior.sqlite_cache import SQLiteCache


def open_cache(path: Path, **params: Any) -> SQLiteCache:
    """A cache object on `path`, configured as a CACHES entry would be."""
    return SQLiteCache(str(path), params)


@pytest.fixture
def cache_file(tmp_path: Path) -> Path:
    return tmp_path / "cache.sqlite3"


@pytest.fixture
def sc(cache_file: Path) -> SQLiteCache:
    return open_cache(cache_file)
