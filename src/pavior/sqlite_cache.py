"""A Django cache in one SQLite file, shared by the processes of one machine.

Without Redis, `pavior serve` runs one web process per core on SQLite too,
and what the processes keep in the cache must then be the same for all of
them: the live attributes one process records and another's pages show, the
message candidates and the workspace version that says they are stale, the
counts behind automatic indexing. Local memory would give each process its
own. This keeps them in `PAVIOR_DATA_DIR/cache.sqlite3`: WAL, so readers
never wait for the one writer; `synchronous = OFF`, since a cache may lose
its last writes in a power cut (every value here is rebuilt or expires on its
own); a connection per thread. Values are pickled, as in Django's own
backends; expired rows are ignored at once and swept at most once a minute.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

SWEEP_EVERY_SECONDS = 60
# A read of many keys goes in statements of at most this many (SQLite's
# default limit on parameters is far above it).
CHUNK = 500

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache "
    "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL) WITHOUT ROWID"
)


BUSY_TIMEOUT = 30.0


def _prepare(db: sqlite3.Connection) -> None:
    """WAL and the table, on a connection just opened.

    Both stay in the file, so only the first connection ever changes anything;
    the others only read that it is done (no lock taken per connection). When
    several processes open a new file at once, turning on WAL may answer
    "database is locked" at once (SQLite's busy timeout does not cover it) or
    leave the mode unchanged: it is tried again until it holds."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    mode = ""
    while True:
        try:
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode == "wal":
                if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'cache'").fetchone():
                    db.execute("BEGIN IMMEDIATE")  # waits for the writer (busy timeout)
                    db.execute(_SCHEMA)
                    db.execute("COMMIT")
                return
        except sqlite3.OperationalError as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError(f"the cache file's journal mode stays {mode!r}, not WAL")
        time.sleep(0.01)


# Connections per thread and file, kept at module level: Django makes a new
# cache object for every asyncio task under ASGI (every request), and a new
# connection per request would cost more than the cache saves.
_local = threading.local()
# When each file was last swept (epoch seconds), in this process.
_last_sweep: dict[str, float] = {}


class SQLiteCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]):
        super().__init__(params)
        self._path = location

    # --- the connection of this thread ---------------------------------------
    def _db(self) -> sqlite3.Connection:
        if getattr(_local, "pid", None) != os.getpid():  # a forked child opens its own
            _local.pid, _local.connections = os.getpid(), {}
        db: sqlite3.Connection | None = _local.connections.get(self._path)
        if db is None:
            os.makedirs(os.path.dirname(self._path) or ".", exist_ok=True)
            db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT, isolation_level=None)
            _prepare(db)
            db.execute("PRAGMA synchronous = OFF")
            _local.connections[self._path] = db
        return db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) so that a read
        then a write in it (add, incr) is atomic across processes."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._sweep_now_and_then(db)

    def _sweep_now_and_then(self, db: sqlite3.Connection) -> None:
        now = time.time()
        if now - _last_sweep.get(self._path, 0.0) < SWEEP_EVERY_SECONDS:
            return
        _last_sweep[self._path] = now
        db.execute("DELETE FROM cache WHERE expires IS NOT NULL AND expires <= ?", (now,))

    # --- keys and values -----------------------------------------------------
    def _expiry(self, timeout: Any) -> float | None:
        value = self.get_backend_timeout(timeout)
        return None if value is None else float(value)

    @staticmethod
    def _live(expires: float | None, now: float) -> bool:
        return expires is None or expires > now

    # --- the cache API ---------------------------------------------------------
    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        name = self.make_and_validate_key(key, version=version)
        row = (
            self._db().execute("SELECT value, expires FROM cache WHERE key = ?", (name,)).fetchone()
        )
        if row is None or not self._live(row[1], time.time()):
            return default
        return pickle.loads(row[0])  # noqa: S301 (our own values, in our own file)

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        names = {self.make_and_validate_key(k, version=version): k for k in keys}
        found: dict[str, Any] = {}
        now = time.time()
        listed = list(names)
        db = self._db()
        for start in range(0, len(listed), CHUNK):
            chunk = listed[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, value, expires FROM cache WHERE key IN ({marks})", chunk
            ).fetchall()
            for name, value, expires in rows:
                if self._live(expires, now):
                    found[names[name]] = pickle.loads(value)  # noqa: S301
        return found

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self.set_many({key: value}, timeout=timeout, version=version)

    def set_many(
        self,
        data: dict[str, Any],
        timeout: Any = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> list[str]:
        expires = self._expiry(timeout)
        rows = [
            (
                self.make_and_validate_key(k, version=version),
                pickle.dumps(v, pickle.HIGHEST_PROTOCOL),
                expires,
            )
            for k, v in data.items()
        ]
        if not rows:
            return []
        with self._writing() as db:
            if expires is not None and expires <= time.time():  # timeout 0: not kept
                db.executemany("DELETE FROM cache WHERE key = ?", [(r[0],) for r in rows])
            else:
                db.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?, ?)", rows)
        return []

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        name = self.make_and_validate_key(key, version=version)
        expires = self._expiry(timeout)
        with self._writing() as db:
            row = db.execute("SELECT expires FROM cache WHERE key = ?", (name,)).fetchone()
            if row is not None and self._live(row[0], time.time()):
                return False
            db.execute(
                "INSERT OR REPLACE INTO cache VALUES (?, ?, ?)",
                (name, pickle.dumps(value, pickle.HIGHEST_PROTOCOL), expires),
            )
        return True

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> Any:
        name = self.make_and_validate_key(key, version=version)
        with self._writing() as db:
            row = db.execute("SELECT value, expires FROM cache WHERE key = ?", (name,)).fetchone()
            if row is None or not self._live(row[1], time.time()):
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(row[0]) + delta  # noqa: S301
            db.execute(
                "UPDATE cache SET value = ? WHERE key = ?",
                (pickle.dumps(value, pickle.HIGHEST_PROTOCOL), name),
            )
        return value

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        name = self.make_and_validate_key(key, version=version)
        with self._writing() as db:
            row = db.execute("SELECT expires FROM cache WHERE key = ?", (name,)).fetchone()
            if row is None or not self._live(row[0], time.time()):
                return False
            db.execute("UPDATE cache SET expires = ? WHERE key = ?", (self._expiry(timeout), name))
        return True

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self.get(key, _MISSING, version=version) is not _MISSING

    def delete(self, key: str, version: int | None = None) -> bool:
        name = self.make_and_validate_key(key, version=version)
        with self._writing() as db:
            return db.execute("DELETE FROM cache WHERE key = ?", (name,)).rowcount > 0

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        names = [(self.make_and_validate_key(k, version=version),) for k in keys]
        if names:
            with self._writing() as db:
                db.executemany("DELETE FROM cache WHERE key = ?", names)

    def clear(self) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM cache")

    def close(self, **kwargs: Any) -> None:
        """Django calls this at the end of every request: the connection stays
        (it is this thread's, and opening one costs more than a cache read)."""


_MISSING = object()
