"""PostgreSQL: an import that adds most of people_person rebuilds its
indexes and its foreign key once, after the load, instead of maintaining
them row by row.

Maintaining people's secondary indexes costs every inserted row one entry
each, the trigram GIN index on upper(email) most of all, and the deferred
foreign key to workspaces_workspace one check per inserted row at commit.
Building them from the finished table is cheaper (docs/benchmarks-import.md:
1M new users 1.15-2.1x faster in same-window pairs, and "email contains" is
fast at once instead of reading a 1M-entry GIN pending list). DROP
INDEX, CREATE INDEX and ALTER TABLE are transactional in PostgreSQL: they
run in the import's one transaction, so a failure, cancel or ``kill -9``
leaves the indexes and the constraint exactly as they were.

The price is an ACCESS EXCLUSIVE lock on people_person from the drop to
the commit (nobody reads or writes users meanwhile) and a SHARE ROW
EXCLUSIVE lock on workspaces_workspace (no workspace row is updated
meanwhile). So it is taken only when the import adds at least half as
many users as the table holds (a first import, a big new batch), never for
updates alone (a full re-import rewrote every row for no clear gain in
docs/benchmarks-import.md, holding people exclusively all along), and only
if the locks come within LOCK_WAIT; otherwise the import maintains the
indexes as before. The primary key and the unique (workspace_id,
external_id) index stay: the merge's matching and every concurrent reader
of a smaller table rely on them, and they are cheap to keep (key order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connection, transaction

from pavior.people.models import Person
from pavior.workspaces.models import Workspace

PERSON = Person._meta.db_table
WORKSPACE = Workspace._meta.db_table
# Rebuild only when the import creates at least this many users...
MIN_ROWS = 20_000
# ...and at least this share of the rows the table already holds (all workspaces).
SHARE = 0.5
# How long to wait for the locks before keeping the indexes instead.
LOCK_WAIT = "2s"


@dataclass
class Rebuild:
    """What was dropped, to be created again (each statement as the catalog
    gives it, so the rebuilt schema is the one that was there)."""

    indexes: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)

    def restore(self, cur: Any) -> None:
        # Room to sort index entries in memory (the default 64 MB spills to
        # disk); the trigram GIN index builds in about half the time with 1 GB.
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for ddl in self.indexes:
            cur.execute(ddl)
        # Last: adding a foreign key checks every row in one join, and locks
        # workspaces (taken already, see take) only until the commit just after.
        for ddl in self.foreign_keys:
            cur.execute(ddl)


def existing_rows(cur: Any, cap: int) -> int:
    """Rows in people_person, counted up to ``cap`` (a bounded scan)."""
    cur.execute(f"SELECT count(*) FROM (SELECT 1 FROM {PERSON} LIMIT %s) x", [cap])
    return int(cur.fetchone()[0])


def worth_it(new: int, existing: int) -> bool:
    return new >= MIN_ROWS and new >= SHARE * existing


def take(cur: Any) -> Rebuild | None:
    """Lock people and workspaces, drop people's secondary indexes and
    foreign keys; None if the locks do not come."""
    cur.execute("SELECT current_setting('lock_timeout')")
    before = cur.fetchone()[0]
    try:
        with transaction.atomic():  # a savepoint: a lock timeout undoes only this
            cur.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_WAIT])
            cur.execute(f"LOCK TABLE {PERSON} IN ACCESS EXCLUSIVE MODE")
            # Taken now, not when the key is added back: waiting for it then,
            # while holding people, could deadlock with a workspace writer.
            cur.execute(f"LOCK TABLE {WORKSPACE} IN SHARE ROW EXCLUSIVE MODE")
    except DatabaseError:
        return None
    finally:
        cur.execute("SELECT set_config('lock_timeout', %s, true)", [before])
    plan = Rebuild()
    # Every index but the primary key and those backing a constraint (with
    # the expression indexes segments create per workspace). An invalid one
    # (a failed CONCURRENTLY build) stays as it is: its owner rebuilds it.
    cur.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
        "AND i.indisvalid AND i.indisready AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
        [PERSON],
    )
    for name, ddl in cur.fetchall():
        cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        plan.indexes.append(ddl)
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [PERSON],
    )
    for name, ddl in cur.fetchall():
        quoted = connection.ops.quote_name(name)
        cur.execute(f"ALTER TABLE {PERSON} DROP CONSTRAINT {quoted}")
        plan.foreign_keys.append(f"ALTER TABLE {PERSON} ADD CONSTRAINT {quoted} {ddl}")
    return plan
