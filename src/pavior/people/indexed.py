"""The typed copy of indexed custom attributes (`IndexedValue`): its SQL, in one place.

`people_indexedvalue` holds, for each custom attribute whose `index_state` is
set, one row per user who has a value: strings in `value_text`; numbers,
dates (epoch seconds) and booleans (0/1) in `value_number`. Covering indexes
`(attribute, value, person)` let counts, breakdowns and histograms read it
without touching each user's JSON document (docs/benchmarks-reports.md).

It is written by database triggers on people_person (`trigger_statements`,
created when an attribute is first marked, dropped when none is), so every
write path keeps it in step without
knowing about it: the ORM (REST upserts, admin pages), the tracking writer,
the CSV import's set-based merge, an attribute's delete (its JSON key is
removed by an UPDATE, then its definition row is deleted), a user's erase.
The only other writer is `backfill`, which copies what was there before an
attribute became indexed. Both build each row with `_columns`, so a value is
typed the same way whichever wrote it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import connection as default_connection
from django.db import transaction

log = logging.getLogger(__name__)

TABLE = "people_indexedvalue"
COLUMNS = "person_id, attribute_id, value_text, value_number"


def _typed_rows(vendor: str, person_id: str, custom: str, source: str) -> str:
    """A SELECT of (person_id, attribute_id, value_text, value_number): one row per
    definition `d` that `source` (FROM ... WHERE ...) yields and that has a
    value in the JSON column `custom`."""
    if vendor == "postgresql":
        return (
            "SELECT j.pid, j.aid, "
            "CASE WHEN jsonb_typeof(j.v) = 'string' THEN j.v #>> '{}' END, "
            "CASE jsonb_typeof(j.v) WHEN 'number' THEN (j.v #>> '{}')::double precision "
            "WHEN 'boolean' THEN CASE WHEN j.v = 'true'::jsonb THEN 1 ELSE 0 END END "
            f"FROM (SELECT {person_id} AS pid, d.id AS aid, {custom} -> d.name AS v "
            f"FROM {source}) j "
            "WHERE jsonb_typeof(j.v) IN ('string', 'number', 'boolean')"
        )
    # SQLite: json_type is 'text', 'integer', 'real', 'true', 'false', 'null', or
    # NULL for an absent key; json_extract gives 1/0 for booleans.
    path = """'$."' || d.name || '"'"""
    return (
        "SELECT j.pid, j.aid, CASE WHEN j.t = 'text' THEN j.v END, "
        "CASE WHEN j.t <> 'text' THEN j.v END "
        f"FROM (SELECT {person_id} AS pid, d.id AS aid, json_type({custom}, {path}) AS t, "
        f"json_extract({custom}, {path}) AS v FROM {source}) j "
        "WHERE j.t IN ('text', 'integer', 'real', 'true', 'false')"
    )


def _insert_for_new(vendor: str) -> str:
    """The trigger's INSERT of NEW's rows, for every indexed attribute of its workspace."""
    rows = _typed_rows(
        vendor,
        "NEW.id",
        "NEW.custom",
        "people_attributedefinition d "
        "WHERE d.workspace_id = NEW.workspace_id AND d.index_state <> ''",
    )
    return f"INSERT INTO {TABLE} ({COLUMNS}) {rows};"


def trigger_statements(vendor: str) -> list[str]:
    """DDL creating the triggers (migration 0005). Updates that leave `custom`
    alone (most tracking writes) do not fire them; a workspace with no indexed
    attribute pays one lookup of its definitions per inserted user."""
    drop_person = f"DELETE FROM {TABLE} WHERE person_id = OLD.id;"
    drop_definition = f"DELETE FROM {TABLE} WHERE attribute_id = OLD.id;"
    if vendor == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION people_indexed_values() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {drop_person} END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_insert_for_new(vendor)} END IF; "
            "RETURN NULL; END $$",
            "CREATE OR REPLACE FUNCTION people_indexed_definition() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {drop_definition} RETURN NULL; END $$",
            # Inserts and deletes: once per statement over its transition
            # table, so an import's INSERT ... SELECT of 1M users is one
            # set-based insert, not 1M plpgsql calls.
            "CREATE OR REPLACE FUNCTION people_indexed_inserted() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {TABLE} ({COLUMNS}) "
            + _typed_rows(
                vendor,
                "n.id",
                "n.custom",
                "new_people n JOIN people_attributedefinition d "
                "ON d.workspace_id = n.workspace_id WHERE d.index_state <> ''",
            )
            + "; RETURN NULL; END $$",
            "CREATE TRIGGER people_indexed_insert AFTER INSERT ON people_person "
            "REFERENCING NEW TABLE AS new_people "
            "FOR EACH STATEMENT EXECUTE FUNCTION people_indexed_inserted()",
            "CREATE TRIGGER people_indexed_update AFTER UPDATE OF custom ON people_person "
            "FOR EACH ROW WHEN (OLD.custom IS DISTINCT FROM NEW.custom) "
            "EXECUTE FUNCTION people_indexed_values()",
            "CREATE OR REPLACE FUNCTION people_indexed_deleted() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"DELETE FROM {TABLE} v USING old_people o WHERE v.person_id = o.id; "
            "RETURN NULL; END $$",
            "CREATE TRIGGER people_indexed_delete AFTER DELETE ON people_person "
            "REFERENCING OLD TABLE AS old_people "
            "FOR EACH STATEMENT EXECUTE FUNCTION people_indexed_deleted()",
            # An attribute deleted, or no longer indexed: its copies go.
            "CREATE TRIGGER people_indexed_definition_delete AFTER DELETE "
            "ON people_attributedefinition FOR EACH ROW WHEN (OLD.index_state <> '') "
            "EXECUTE FUNCTION people_indexed_definition()",
            "CREATE TRIGGER people_indexed_definition_update AFTER UPDATE OF index_state "
            "ON people_attributedefinition FOR EACH ROW "
            "WHEN (OLD.index_state <> '' AND NEW.index_state = '') "
            "EXECUTE FUNCTION people_indexed_definition()",
        ]
    return [
        "CREATE TRIGGER people_indexed_insert AFTER INSERT ON people_person "
        f"BEGIN {_insert_for_new(vendor)} END",
        "CREATE TRIGGER people_indexed_update AFTER UPDATE OF custom ON people_person "
        f"WHEN OLD.custom IS NOT NEW.custom BEGIN {drop_person} {_insert_for_new(vendor)} END",
        "CREATE TRIGGER people_indexed_delete AFTER DELETE ON people_person "
        f"BEGIN {drop_person} END",
        "CREATE TRIGGER people_indexed_definition_delete AFTER DELETE "
        "ON people_attributedefinition WHEN OLD.index_state <> '' "
        f"BEGIN {drop_definition} END",
        "CREATE TRIGGER people_indexed_definition_update AFTER UPDATE OF index_state "
        "ON people_attributedefinition WHEN OLD.index_state <> '' AND NEW.index_state = '' "
        f"BEGIN {drop_definition} END",
    ]


TRIGGERS = [
    ("people_indexed_insert", "people_person"),
    ("people_indexed_update", "people_person"),
    ("people_indexed_delete", "people_person"),
    ("people_indexed_definition_delete", "people_attributedefinition"),
    ("people_indexed_definition_update", "people_attributedefinition"),
]


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in TRIGGERS] + [
            "DROP FUNCTION IF EXISTS people_indexed_values()",
            "DROP FUNCTION IF EXISTS people_indexed_inserted()",
            "DROP FUNCTION IF EXISTS people_indexed_deleted()",
            "DROP FUNCTION IF EXISTS people_indexed_definition()",
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in TRIGGERS]


def _any_indexed(cur: Any) -> bool:
    cur.execute("SELECT 1 FROM people_attributedefinition WHERE index_state <> '' LIMIT 1")
    return cur.fetchone() is not None


def ensure_triggers(conn: Any) -> bool:
    """Create the triggers if any is missing while some attribute is indexed
    (when one is marked, and after a migrate); True if it did.

    They exist only while needed: even with nothing indexed a trigger costs
    each insert of a user (SQLite: about 11 µs of CPU, a third of an import's
    row; docs/benchmarks-reports.md), so an installation that indexes nothing
    pays nothing."""
    if conn.vendor not in ("postgresql", "sqlite"):
        return False
    names = [name for name, _ in TRIGGERS]
    marks = ", ".join(["%s"] * len(names))
    with conn.cursor() as cur:
        if TABLE not in conn.introspection.table_names(cur) or not _any_indexed(cur):
            return False  # migrations not run this far yet, or nothing to copy
        if conn.vendor == "postgresql":
            cur.execute(f"SELECT count(*) FROM pg_trigger WHERE tgname IN ({marks})", names)
        else:
            cur.execute(
                f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
                names,
            )
        if cur.fetchone()[0] == len(names):
            return False
        for sql in [*drop_statements(conn.vendor), *trigger_statements(conn.vendor)]:
            cur.execute(sql)
    log.info("created the triggers that keep %s in step", TABLE)
    return True


def drop_unneeded_triggers(conn: Any) -> bool:
    """Drop the triggers once no attribute is indexed; True if it did."""
    if conn.vendor not in ("postgresql", "sqlite"):
        return False
    with conn.cursor() as cur:
        if _any_indexed(cur):
            return False
        for sql in drop_statements(conn.vendor):
            cur.execute(sql)
    return True


def _backfill_sql(vendor: str) -> str:
    """Copy one batch of users' values of one attribute: params (workspace id,
    after id, batch size, attribute id)."""
    batch = (
        "SELECT id, custom FROM people_person "
        "WHERE workspace_id = %s AND id > %s ORDER BY id LIMIT %s"
    )
    if vendor == "postgresql":
        # FOR SHARE: a write to one of these users that committed meanwhile is
        # read as committed (and its trigger's row kept); one that comes later
        # waits for this batch and then replaces the row itself.
        rows = _typed_rows(
            vendor, "p.id", "p.custom", "p CROSS JOIN people_attributedefinition d WHERE d.id = %s"
        )
        return (
            f"WITH p AS ({batch} FOR SHARE) INSERT INTO {TABLE} ({COLUMNS}) {rows} "
            "ON CONFLICT (person_id, attribute_id) DO UPDATE SET "
            "value_text = EXCLUDED.value_text, value_number = EXCLUDED.value_number"
        )
    # SQLite has one writer at a time: the batch's transaction sees every user as is.
    rows = _typed_rows(
        vendor,
        "p.id",
        "p.custom",
        f"({batch}) p CROSS JOIN people_attributedefinition d WHERE d.id = %s",
    )
    return f"INSERT OR REPLACE INTO {TABLE} ({COLUMNS}) {rows}"


def log_progress(definition_id: int) -> Callable[[int, int], None]:
    """A `backfill` progress callback that logs every tenth of the way."""
    shown = [-1]

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            log.info("typed copy of attribute %s: %s of %s users", definition_id, done, total)

    return progress


def mark_indexed(workspace_id: int, name: str) -> int | None:
    """Mark a custom attribute's values for the side table (triggers copy new
    writes from the commit on); its id if `backfill` must run, else None."""
    from pavior.people.models import AttributeDefinition

    with transaction.atomic():
        d = (
            AttributeDefinition.objects.select_for_update()
            .filter(workspace_id=workspace_id, name=name)
            .first()
        )
        if d is None:
            raise ValueError(f"no custom attribute {name}")
        if d.index_state == "ready":
            return None
        if d.index_state == "":
            d.index_state = "building"
            d.save(update_fields=["index_state"])
            # In this transaction: from its commit on, every write is copied.
            ensure_triggers(default_connection)
        return d.pk


def unmark_indexed(workspace_id: int, name: str) -> bool:
    """Stop copying an attribute (a trigger deletes its rows). True if it was copied."""
    from pavior.people.models import AttributeDefinition

    with transaction.atomic():
        changed = (
            AttributeDefinition.objects.filter(workspace_id=workspace_id, name=name)
            .exclude(index_state="")
            .update(index_state="")
        )
        drop_unneeded_triggers(default_connection)
    return bool(changed)


def backfill(
    definition_id: int,
    *,
    batch: int = 20_000,
    progress: Callable[[int, int], None] | None = None,
    using: Any = None,
) -> int:
    """Copy an attribute's existing values into the side table, one batch of users
    per transaction (so writes to people go on meanwhile), and mark it ready.

    The attribute must already be marked (index_state "building"), so the
    triggers copy every write from then on. Returns the users read.
    `progress(done, total)` is called after each batch.
    """
    from pavior.people.models import AttributeDefinition, Person

    conn = using or default_connection
    d = AttributeDefinition.objects.get(pk=definition_id)
    if d.index_state == "":
        raise ValueError(f"attribute {d.name} is not marked for indexing")
    total = Person.objects.filter(workspace_id=d.workspace_id).count()
    sql = _backfill_sql(conn.vendor)
    done, after = 0, 0
    while True:
        with transaction.atomic(using=conn.alias), conn.cursor() as cur:
            cur.execute(
                "SELECT max(id), count(*) FROM (SELECT id FROM people_person "
                "WHERE workspace_id = %s AND id > %s ORDER BY id LIMIT %s) b",
                [d.workspace_id, after, batch],
            )
            last, n = cur.fetchone()
            if not n:
                break
            cur.execute(sql, [d.workspace_id, after, batch, d.pk])
        done += n
        after = last
        if progress is not None:
            progress(done, total)
    AttributeDefinition.objects.filter(pk=d.pk, index_state="building").update(index_state="ready")
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            # Index-only scans need the visibility map (VACUUM sets it; not
            # possible inside a transaction); statistics guide the plans.
            cur.execute(f"{'ANALYZE' if conn.in_atomic_block else 'VACUUM (ANALYZE)'} {TABLE}")
    log.info("indexed values of %s (workspace %s): %s users read", d.name, d.workspace_id, done)
    return done
