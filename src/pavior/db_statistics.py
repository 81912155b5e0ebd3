"""Planner statistics kept fresh, so the database picks the right index.

A new install has none: SQLite then plans from built-in guesses, and
PostgreSQL plans a freshly filled table as if it were empty until autovacuum
first analyzes it (the person lookup took a wrong index: 2.4 ms instead of
0.05 ms at 10k users). `pavior serve` refreshes them when it starts, and its
worker (`pavior worker`) every REFRESH_SECONDS:

- SQLite: `ANALYZE` with `PRAGMA analysis_limit` (each index is sampled, not
  read: a few milliseconds whatever the size), then `PRAGMA optimize`.
- PostgreSQL: `ANALYZE` of the tables never analyzed yet, and of those
  changed by more rows than they held when last analyzed (at least
  GROWN_ROWS): a table analyzed while empty at start-up and filled since is
  planned as empty until autovacuum's next round (up to a minute, then 10 %
  of the table); batches of tracked events ran 5x slower meanwhile
  (docs/benchmarks-tracking.md). Autovacuum does the rest.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import DatabaseError, connection

log = logging.getLogger("pavior.statistics")

REFRESH_SECONDS = 15
# PostgreSQL: a table changed by at least this many rows, and by more than it
# held at its last ANALYZE, is analyzed again.
GROWN_ROWS = 1000
# Rows sampled per index by SQLite's ANALYZE (PRAGMA optimize uses 400).
SQLITE_ANALYSIS_LIMIT = 1000


def refresh() -> None:
    """Bring the planner statistics up to date (see the module doc)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            cur.execute("ANALYZE")
            cur.execute("PRAGMA optimize")
        elif connection.vendor == "postgresql":
            cur.execute(
                "SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) "
                "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
                "WHERE (s.last_analyze IS NULL AND s.last_autoanalyze IS NULL) "
                "OR s.n_mod_since_analyze > GREATEST(%s, c.reltuples)",
                [GROWN_ROWS],
            )
            for (table,) in cur.fetchall():
                cur.execute(f"ANALYZE {table}")


def refresh_quietly() -> None:
    """refresh(), logging rather than raising (a busy or unreachable database
    only delays the next refresh)."""
    try:
        refresh()
    except DatabaseError:
        log.warning("could not refresh the planner statistics", exc_info=True)
    finally:
        connection.close()


def start_refreshing(every: float = REFRESH_SECONDS) -> threading.Thread:
    """Refresh now and then every `every` seconds, on a daemon thread."""

    def run() -> None:
        while True:
            refresh_quietly()
            time.sleep(every)

    thread = threading.Thread(target=run, name="pavior-statistics", daemon=True)
    thread.start()
    return thread
