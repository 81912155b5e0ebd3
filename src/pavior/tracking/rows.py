"""The intake's fixed SQL statements on the people and raw-events tables.

Each is written once and used by both storage paths of the writer (one
batch at a time in pavior.tracking.actions.store, many batches together in
pavior.tracking.bulk): locking the known users, inserting new raw events,
writing the derived columns. Plain SQL rather than the ORM because these run
for every tracked event and the ORM's per-row machinery was most of their cost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pavior.people.models import Person
from pavior.tracking.models import PendingEvent, RawEvent

if TYPE_CHECKING:
    from pavior.tracking.actions import Event
    from pavior.tracking.geoip import Place

# The columns tracking changes (update_derived writes exactly these).
UPDATED = (
    "total_visits",
    "total_time_spent",
    "last_seen_at",
    "last_activity_at",
    "city",
    "country",
)
# What derive and publish_live read; the rest of the row is left deferred.
# In the model's column order: Model.from_db expects that order.
# verified_at is read (never written here) for actions.admit's rule (SPEC §6).
_WANTED = {"id", "workspace_id", "external_id", "verified_at", *UPDATED}
DERIVED_FIELDS = [f.attname for f in Person._meta.concrete_fields if f.attname in _WANTED]
_DATETIME_FIELDS = ("last_seen_at", "last_activity_at", "verified_at")
DATETIMES = [i for i, n in enumerate(DERIVED_FIELDS) if n in _DATETIME_FIELDS]


def lock_people(workspace_id: int, keys: Sequence[str], *, lock: bool = True) -> dict[str, Person]:
    """The known users among `keys` (external ids) with only DERIVED_FIELDS
    loaded, locked in one order (by id) until the transaction ends; by id.
    With `lock` False they are only read (the folder moves their values later)."""
    found = _select_people("workspace_id = %s AND external_id", [workspace_id], keys, lock=lock)
    return {person.external_id: person for person in found}


def lock_people_by_id(ids: Sequence[int]) -> dict[int, Person]:
    """lock_people by primary key (the folder's users, of any workspace), in
    the same order: by workspace, then id, as the writer locks them."""
    return {person.pk: person for person in _select_people("id", [], ids, lock=True)}


def _select_people(
    where: str, params: list[Any], among: Sequence[Any], *, lock: bool
) -> list[Person]:
    """SELECT DERIVED_FIELDS of the users for whom `where` (ending in the
    column) is one of `among`, in lock order (workspace, then id)."""
    if not among:
        return []
    table = Person._meta.db_table
    columns = ", ".join(DERIVED_FIELDS)
    if connection.vendor == "postgresql":
        sql = f"SELECT {columns} FROM {table} WHERE {where} = ANY(%s) ORDER BY workspace_id, id" + (
            " FOR UPDATE" if lock else ""
        )
        rows = pg_execute(sql, [*params, list(among)])
    else:
        # SQLite locks the whole database for the writer's transaction already.
        marks = ",".join(["%s"] * len(among))
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT {columns} FROM {table} WHERE {where} IN ({marks})", [*params, *among]
            )
            rows = cur.fetchall()
    return [person_from_row(row) for row in rows]


def person_from_row(row: Any) -> Person:
    """A Person from a SELECT of DERIVED_FIELDS (the other columns deferred)."""
    values = list(row)
    for i in DATETIMES:  # SQLite hands datetimes back naive (or as text)
        value = values[i]
        values[i] = _aware(parse_datetime(value) if isinstance(value, str) else value)
    return Person.from_db(connection.alias, DERIVED_FIELDS, values)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


_UPDATED_DATETIMES = [i for i, n in enumerate(UPDATED) if n in _DATETIME_FIELDS]


def _datetime_adapter() -> Any:
    """How this connection's driver takes an aware datetime (the form Django
    stores: naive UTC text on SQLite; the datetime itself on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return lambda value: value
    if connection.timezone_name == "UTC":
        return _sqlite_datetime
    return connection.ops.adapt_datetimefield_value


def update_derived(people: Sequence[Person]) -> None:
    """Write the UPDATED columns (and updated_at) of these users: one statement."""
    if not people:
        return
    now = timezone.now()
    # The values as the driver takes them, without Django's per-value
    # get_db_prep_save (most of this function's time): the numbers and texts
    # as they are, the times as the backend stores them.
    adapt = _datetime_adapter()
    stamp = adapt(now)
    rows = []
    for person in people:
        person.updated_at = now
        values = [getattr(person, n) for n in UPDATED]
        for i in _UPDATED_DATETIMES:
            if values[i] is not None:
                values[i] = adapt(values[i])
        rows.append([*values, stamp, person.pk])
    table = Person._meta.db_table
    names = (*UPDATED, "updated_at")
    if connection.vendor == "postgresql":
        # One statement for all of them: executemany is one UPDATE per user.
        doc = [{"id": pk, **dict(zip(names, values, strict=True))} for *values, pk in rows]
        sets = ", ".join(f"{n} = v.{n}" for n in names)
        sql = (
            f"UPDATE {table} AS p SET {sets} FROM json_to_recordset(%s::json) AS v(id bigint, "
            "total_visits integer, total_time_spent double precision, "
            "last_seen_at timestamptz, last_activity_at timestamptz, city text, country text, "
            "updated_at timestamptz) WHERE p.id = v.id"
        )
        pg_execute(sql, [json_document(doc)])
        return
    sets = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
    with connection.cursor() as cur:
        cur.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


# Rows per INSERT: 10 parameters each stays far below SQLite's and PostgreSQL's limits.
INSERT_CHUNK = 500

# (workspace_id, person_id, event, received_at): one event to store.
EventRow = tuple[int, int, "Event", datetime]
# The same with the GeoIP place of its request (city, country): one event to fold later.
PendingRow = tuple[int, int, "Event", datetime, "Place | None"]


def insert_raw_events(rows: list[EventRow], *, folding: bool = False) -> set[tuple[int, str]]:
    """Insert (workspace_id, person_id, event, received_at) rows not stored yet;
    the (workspace_id, message_id) pairs actually inserted.

    ON CONFLICT DO NOTHING RETURNING (PostgreSQL, SQLite >= 3.35) makes the
    deduplication one statement that two concurrent retries cannot both win.
    An event still pending (acknowledged, not yet folded) is a duplicate too,
    unless `folding`: the folder moving it here.
    """
    unless_in = None if folding else PendingEvent._meta.db_table
    raw: list[PendingRow] = [(*r, None) for r in rows]
    return _insert_events(RawEvent._meta.db_table, raw, pending=False, unless_in=unless_in)


def insert_pending(rows: list[PendingRow]) -> set[tuple[int, str]]:
    """insert_raw_events into PendingEvent (pavior.tracking.folder): an event
    already in RawEvent or still pending is a duplicate, so the answer counts
    duplicates as the inline path does."""
    table = PendingEvent._meta.db_table
    return _insert_events(table, rows, pending=True, unless_in=RawEvent._meta.db_table)


_COLUMNS = "workspace_id, person_id, message_id, type, website, at, received_at, data"
_PLACE_COLUMNS = ", city, country"


def _insert_events(
    table: str, rows: list[PendingRow], *, pending: bool, unless_in: str | None
) -> set[tuple[int, str]]:
    """Insert into `table` the rows whose message is in neither it nor `unless_in`."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_events_pg(table, rows, pending=pending, unless_in=unless_in)
    # SQLite: the raw sqlite3 cursor with its own placeholders, since Django's
    # wrapper rewrote the %s of every long statement with a regex; datetimes
    # as Django stores them (naive UTC text), without its per-value checks.
    adapt = _datetime_adapter()
    width = 10 if pending else 8
    one = "(" + ",".join("?" * width) + ")"
    columns = _COLUMNS + (_PLACE_COLUMNS if pending else "")
    inserted: set[tuple[int, str]] = set()
    received: dict[datetime, Any] = {}
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params: list[Any] = []
        for workspace_id, person_id, e, received_at, place in chunk:
            if received_at not in received:
                received[received_at] = adapt(received_at)
            data = None if e.data is None else json_document(e.data)
            params += [
                workspace_id,
                person_id,
                e.message_id,
                e.type,
                e.website,
                adapt(e.at),
                received[received_at],
                data,
            ]
            if pending:
                params += [place.city, place.country] if place else [None, None]
        values = ",".join([one] * len(chunk))
        if unless_in:
            # Not when the other table has it (column1, column3: workspace, message).
            source = (
                f"SELECT * FROM (VALUES {values}) AS v WHERE NOT EXISTS (SELECT 1 FROM "
                f"{unless_in} r WHERE r.workspace_id = v.column1 "
                "AND r.message_id = v.column3)"
            )
        else:
            source = f"VALUES {values}"
        sql = (
            f"INSERT INTO {table} ({columns}) {source} "
            "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING workspace_id, message_id"
        )
        connection.ensure_connection()
        with connection.wrap_database_errors:
            cur = connection.connection.cursor()
            try:
                cur.execute(sql, params)
                inserted.update((r[0], r[1]) for r in cur.fetchall())
            finally:
                cur.close()
    return inserted


def _sqlite_datetime(value: datetime) -> str:
    """DatabaseOperations.adapt_datetimefield_value of SQLite with a UTC connection."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


def _insert_events_pg(
    table: str, rows: list[PendingRow], *, pending: bool, unless_in: str | None
) -> set[tuple[int, str]]:
    """_insert_events on PostgreSQL: the rows travel as one JSON document.

    The statement text stays short and fixed (psycopg parses it once), and
    json.dumps builds the parameter in C, where a VALUES list of hundreds of
    rows or array parameters were quoted value by value in Python: that was
    most of the writer's time for 50-event batches.
    """
    doc = [
        {
            "w": workspace_id,
            "p": person_id,
            "m": e.message_id,
            "t": e.type,
            "s": e.website,
            "a": e.at,
            "r": received_at,
            "d": e.data,
            **({"c": place.city, "n": place.country} if pending and place else {}),
        }
        for workspace_id, person_id, e, received_at, place in rows
    ]
    place_in = ", c, n" if pending else ""
    place_types = ", c text, n text" if pending else ""
    dedup = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {unless_in} r "
        "WHERE r.workspace_id = u.w AND r.message_id = u.m)"
        if unless_in
        else ""
    )
    columns = _COLUMNS + (_PLACE_COLUMNS if pending else "")
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT w, p, m, t, s, a, r, d{place_in} "
        "FROM json_to_recordset(%s::json) AS u(w bigint, p bigint, m text, t text, s boolean, "
        f"a timestamptz, r timestamptz, d jsonb{place_types}){dedup} "
        "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING workspace_id, message_id"
    )
    rows_in = pg_execute(sql, [json_document(doc)])
    return {(r[0], r[1]) for r in rows_in}


def json_document(value: Any) -> str:
    """A JSON parameter for PostgreSQL (datetimes as RFC 3339)."""
    return compact_json(value).decode()


def compact_json(value: Any) -> bytes:
    """`value` as compact JSON: orjson, several times faster than json.dumps
    where it runs for every stored event and every intake answer; what it
    refuses (integers past 64 bits) goes through json.dumps, so what can be
    written does not depend on the encoder."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_isoformat).encode()


def _isoformat(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def pg_execute(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Run one of the intake's fixed statements as a prepared statement (PostgreSQL).

    Django's cursors bind client-side and never prepare, so PostgreSQL parsed
    and planned each statement of every flush again; these few statements
    never change their text, so preparing them once per connection saves that.
    """
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchall() if cur.description else []
