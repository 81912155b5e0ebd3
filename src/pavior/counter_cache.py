"""A file cache whose counters several processes can share (rate limits without Redis).

Django's FileBasedCache stores one file per key, visible to every process of
the machine, but its `add` and `incr` are a read then a write, so two
processes counting at once lose increments; and it lists the whole directory
on every write to decide whether to cull. This subclass takes an exclusive
`flock` on one lock file around `add` and `incr` (each holds it for a few
microseconds), and culls only expired files, at most once a minute.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY_SECONDS = 60


class SharedCounterFileCache(FileBasedCache):
    _last_cull = 0.0

    @contextmanager
    def _locked(self) -> Iterator[None]:
        me: Any = self  # FileBasedCache's private helpers are not in django-stubs
        me._createdir()
        fd = os.open(os.path.join(me._dir, "counters.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def add(self, key: str, value: Any, timeout: Any = None, version: Any = None) -> bool:
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key: str, delta: int = 1, version: Any = None) -> int:
        with self._locked():
            return super().incr(key, delta, version)

    def _cull(self) -> None:
        now = time.monotonic()
        if now - self._last_cull < CULL_EVERY_SECONDS:
            return
        self._last_cull = now
        me: Any = self
        for path in me._list_cache_files():
            try:
                with open(path, "rb") as f:
                    me._is_expired(f)  # deletes the file when it has expired
            except FileNotFoundError:
                pass
