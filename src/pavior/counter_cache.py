"""A Django cache of integer counters in files, shared by the processes of one machine.

Rate limits without Redis need counters that every `pavior serve --workers N`
process sees and increments atomically. Django's FileBasedCache is shared
but its `incr` is a read then a rewrite (pickle, temporary file, rename, a
directory listing to cull): increments from two processes get lost, and one
costs milliseconds. Here each key is a 16-byte file (expiry, value) updated
in place under an exclusive `flock` on that file: exact across processes and
a handful of system calls. Values are integers only; `incr_or_start` is the
one call a rate limit needs (count, creating the counter with its timeout).
Expired files are swept at most once a minute.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

RECORD = struct.Struct("<dq")  # expires at (epoch seconds, 0 = never), value
SUFFIX = ".count"
SWEEP_EVERY_SECONDS = 60
# A counter is deleted only this long after it expired: by then no process is
# still counting into it (rate-limit keys name their window).
SWEEP_GRACE_SECONDS = 60
# When each directory was last swept (monotonic seconds), in this process.
_last_sweep: dict[str, float] = {}


class CounterFileCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)
        self._dir = location

    # --- the file of one key ------------------------------------------------
    def _path(self, key: str, version: int | None) -> str:
        name = self.make_and_validate_key(key, version=version)
        return os.path.join(self._dir, hashlib.sha256(name.encode()).hexdigest()[:40] + SUFFIX)

    @contextmanager
    def _locked(self, key: str, version: int | None, create: bool) -> Iterator[int | None]:
        path = self._path(key, version)
        flags = os.O_RDWR | (os.O_CREAT if create else 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileNotFoundError:
            if not create:
                yield None
                return
            os.makedirs(self._dir, exist_ok=True)
            fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # and with it the lock

    @staticmethod
    def _read(fd: int | None) -> tuple[float, int] | None:
        """(expiry, value) of a live counter, None when absent or expired."""
        if fd is None:
            return None
        data = os.pread(fd, RECORD.size, 0)
        if len(data) < RECORD.size:
            return None
        expires, value = RECORD.unpack(data)
        if expires and expires <= time.time():
            return None
        return expires, value

    def _write(self, fd: int, expires: float, value: int) -> None:
        os.pwrite(fd, RECORD.pack(expires, value), 0)
        self._sweep()

    def _expiry(self, timeout: Any) -> float:
        at = self.get_backend_timeout(timeout)
        return 0.0 if at is None else float(at)

    # --- the cache API, for integers ----------------------------------------------
    def incr_or_start(self, key: str, timeout: int, delta: int = 1) -> int:
        """Add `delta` to the counter, starting it at `delta` (expiring in
        `timeout` s) if absent; its new value."""
        with self._locked(key, None, create=True) as fd:
            assert fd is not None
            current = self._read(fd)
            if current is None:
                self._write(fd, time.time() + timeout, delta)
                return delta
            self._write(fd, current[0], current[1] + delta)
            return current[1] + delta

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        with self._locked(key, version, create=True) as fd:
            assert fd is not None
            if self._read(fd) is not None:
                return False
            self._write(fd, self._expiry(timeout), int(value))
            return True

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        with self._locked(key, version, create=True) as fd:
            assert fd is not None
            self._write(fd, self._expiry(timeout), int(value))

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        with self._locked(key, version, create=False) as fd:
            current = self._read(fd)
        return default if current is None else current[1]

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        with self._locked(key, version, create=False) as fd:
            current = self._read(fd)
            if current is None or fd is None:
                raise ValueError(f"Key '{key}' not found")
            self._write(fd, current[0], current[1] + delta)
            return current[1] + delta

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        with self._locked(key, version, create=False) as fd:
            current = self._read(fd)
            if current is None or fd is None:
                return False
            self._write(fd, self._expiry(timeout), current[1])
            return True

    def delete(self, key: str, version: int | None = None) -> bool:
        try:
            os.remove(self._path(key, version))
        except FileNotFoundError:
            return False
        return True

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        for name in self._files():
            try:
                os.remove(os.path.join(self._dir, name))
            except FileNotFoundError:
                pass

    def _files(self) -> list[str]:
        try:
            return [n for n in os.listdir(self._dir) if n.endswith(SUFFIX)]
        except FileNotFoundError:
            return []

    def _sweep(self) -> None:
        # Per directory and process, not per object: Django may make a cache
        # object per thread or asyncio task, and each would sweep at once.
        now = time.monotonic()
        if now - _last_sweep.get(self._dir, 0.0) < SWEEP_EVERY_SECONDS:
            return
        _last_sweep[self._dir] = now
        cutoff = time.time() - SWEEP_GRACE_SECONDS
        for name in self._files():
            path = os.path.join(self._dir, name)
            try:
                with open(path, "rb") as f:
                    data = f.read(RECORD.size)
                if len(data) == RECORD.size and 0 < RECORD.unpack(data)[0] < cutoff:
                    os.remove(path)
            except FileNotFoundError:
                pass
