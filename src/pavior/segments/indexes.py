"""Database-specific SQL for custom attributes: their value expression and its index.

A custom value lives in the JSON column `custom`. A filter or sort on it can
only use an index if the query's expression is the index's expression, so both
are built here, by one function (`custom_value_sql`):

- PostgreSQL: `(custom ->> 'plan')`, cast to double precision (numbers, dates
  as epoch seconds) or boolean. The index is partial, `WHERE workspace_id = N`,
  so it holds one workspace's rows only and costs the others nothing.
- SQLite: `JSON_EXTRACT(custom, '$."plan"')`. SQLite matches an indexed
  expression by its text, bound parameters included, so the JSON path must be
  written into the SQL as a literal rather than bound.

Writing a name into SQL is safe only because it is first checked against
`SAFE_NAME` (the charset `validate_custom_name` allows: letters, digits,
underscore), and then still quoted as a string literal. Anything else raises
`InvalidFilter` before any SQL is built.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection as default_connection

from pavior.core.attributes import AttrType
from pavior.core.errors import InvalidFilter

log = logging.getLogger(__name__)

TABLE = "people_person"
SAFE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")

_PG_CASTS = {
    AttrType.STRING: "",
    AttrType.NUMBER: "::double precision",
    AttrType.DATE: "::double precision",  # epoch seconds
    AttrType.BOOLEAN: "::boolean",
}


def checked_name(name: str) -> str:
    """`name` if it can be written into SQL as a literal, else InvalidFilter."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        raise InvalidFilter(f"{name!r} is not a valid attribute name", field="attribute")
    return name


def _literal(text: str) -> str:
    # Only ever called on text built from a checked name, so it holds no quote;
    # doubling quotes anyway keeps this a correct SQL literal on its own.
    return "'" + text.replace("'", "''") + "'"


def custom_value_sql(vendor: str, column: str, name: str, attr_type: AttrType) -> str:
    """SQL for one custom attribute's typed value, `column` being the JSON column."""
    name = checked_name(name)
    if vendor == "postgresql":
        sql = f"({column} ->> {_literal(name)})"
        cast = _PG_CASTS[AttrType(attr_type)]
        return f"({sql}){cast}" if cast else sql
    return f"JSON_EXTRACT({column}, {_literal(f'$.{chr(34)}{name}{chr(34)}')})"


def index_name(workspace_id: int, name: str) -> str:
    """A stable name under PostgreSQL's 63-byte limit; the hash keeps long names apart."""
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"person_w{int(workspace_id)}_{name[:32].lower()}_{digest}"


@dataclass(frozen=True)
class IndexResult:
    name: str
    created: bool


def _pg_index_state(cur: Any, name: str) -> bool | None:
    """True if the index exists and is valid, False if invalid, None if absent."""
    cur.execute(
        "SELECT i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
        "WHERE c.relname = %s",
        [name],
    )
    row = cur.fetchone()
    return None if row is None else bool(row[0])


def ensure_expression_index(
    workspace_id: int, name: str, attr_type: AttrType | str, *, using: Any = None
) -> IndexResult:
    """Create the index that `custom_value_sql` queries can use, if it is not there yet.

    On PostgreSQL it is built CONCURRENTLY when not inside a transaction, so
    writes to people go on while a large workspace is indexed.
    """
    conn = using or default_connection
    attr_type = AttrType(attr_type)
    name = checked_name(name)
    index = index_name(workspace_id, name)
    quoted_index = conn.ops.quote_name(index)
    table = conn.ops.quote_name(TABLE)
    expr = custom_value_sql(conn.vendor, '"custom"', name, attr_type)
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            concurrently = "" if conn.in_atomic_block else "CONCURRENTLY "
            state = _pg_index_state(cur, index)
            if state:
                return IndexResult(index, created=False)
            if conn.in_atomic_block:
                # Deferred foreign-key checks of rows written earlier in this
                # transaction would block CREATE INDEX; run them now.
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            if state is False:  # a CONCURRENTLY build that died half way
                cur.execute(f"DROP INDEX {concurrently}IF EXISTS {quoted_index}")
            cur.execute(
                f"CREATE INDEX {concurrently}IF NOT EXISTS {quoted_index} ON {table} "
                f"(({expr})) WHERE workspace_id = {int(workspace_id)}"
            )
            # PostgreSQL keeps no statistics for a partial index's expression, so
            # without these it guesses 0.5% of rows match any value and picks
            # poor plans for common values; statistics on the expression fix that.
            stats = conn.ops.quote_name(index_name(0, name) + "_stats")
            cur.execute(f"CREATE STATISTICS IF NOT EXISTS {stats} ON ({expr}) FROM {table}")
            cur.execute(f"ANALYZE {table}")
        else:
            # No partial index here: SQLite proves a partial index usable only
            # from literal terms, and the workspace id is a bound parameter.
            cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = %s", [index])
            if cur.fetchone():
                return IndexResult(index, created=False)
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {quoted_index} ON {table} (workspace_id, {expr})"
            )
            cur.execute(f"ANALYZE {quoted_index}")
    log.info("created index %s on custom attribute %s of workspace %s", index, name, workspace_id)
    return IndexResult(index, created=True)


def drop_expression_index(workspace_id: int, name: str, *, using: Any = None) -> bool:
    """Drop the index of a custom attribute (e.g. once the attribute is deleted)."""
    conn = using or default_connection
    index = conn.ops.quote_name(index_name(workspace_id, checked_name(name)))
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            concurrently = "" if conn.in_atomic_block else "CONCURRENTLY "
            cur.execute(f"DROP INDEX {concurrently}IF EXISTS {index}")
        else:
            cur.execute(f"DROP INDEX IF EXISTS {index}")
    return True


def expression_indexes(workspace_id: int, *, using: Any = None) -> list[str]:
    """Names of the custom-attribute indexes that exist for a workspace."""
    conn = using or default_connection
    prefix = f"person_w{int(workspace_id)}_"
    with conn.cursor() as cur:
        if conn.vendor == "postgresql":
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname LIKE %s",
                [TABLE, prefix.replace("_", r"\_") + "%"],
            )
        else:
            cur.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND name LIKE %s ESCAPE '\\'",
                [TABLE, prefix.replace("_", r"\_") + "%"],
            )
        return sorted(row[0] for row in cur.fetchall())
