"""A database of its own for a test that runs `pavior` as separate processes
(and kills them): its data dir and, on PostgreSQL, a database named after this
run's, dropped afterwards whatever happened; and plain reads of it from the test."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def own_database(env: dict[str, str], suffix: str) -> Iterator[dict[str, str]]:
    """``env`` (with PAVIOR_DATA_DIR set) pointed at a new database for the CLI."""
    env.pop("PAVIOR_TEST_SQLITE_NAME", None)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield env
        return
    import psycopg

    base, _, name = url.rpartition("/")
    db = f"{name}_{suffix}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    env["DATABASE_URL"] = f"{base}/{db}"
    try:
        yield env
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            # WITH (FORCE): a killed process's session may not be gone yet.
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def query(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` in the database ``env`` names."""
    if env.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    db = Path(env["PAVIOR_DATA_DIR"]) / "pavior.sqlite3"
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]
