"""Staging table and the set-based merge into people, on PostgreSQL and SQLite.

The staging table is TEMP on both databases. On PostgreSQL it is created,
filled and merged in the caller's one transaction (ON COMMIT DROP). On
SQLite it lives in the connection's temp database (on disk during an
import: actions sets temp_store=FILE), is filled before the merge without
taking the main database's write lock (``filling``), and only the merge runs
in the one write transaction. Either way every statement that touches
people is in one transaction: a crash or kill leaves nothing behind.

The statements reproduce pavior.people.actions.upsert_user row for row:
match by id, else upgrade an email-keyed user, else by email; `id` defaults
to email; first_known_at is set at creation; email_subscription only ever
goes to false; custom values merge key by key (a null in the patch clears).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, transaction

from pavior.core.profile import derive_names
from pavior.imports import rebuild
from pavior.imports.pipeline import NAME_TRIO, Layout, StagedRow
from pavior.imports.staging import Keys, email_position
from pavior.people.models import Person

PERSON = Person._meta.db_table
_DATES = ("first_known_at", "signed_up_at")
TEMP_BUFFERS = "256MB"


def _pg_type(b: str) -> str:
    if b in _DATES:
        return "timestamptz"
    if b == "email_subscription":
        return "boolean"
    return "text"


class Stage:
    def __init__(self, layout: Layout, token: str) -> None:
        self.layout = layout
        self.pg = connection.vendor == "postgresql"
        self.table = f"imports_stage_{token[:16]}"
        self.columns = ["line", "ext_id"]
        self.columns += [f"v_{b}" for b in layout.builtins]
        if layout.trio:
            self.columns += [f"s_{b}" for b in NAME_TRIO]
        if layout.has_custom:
            self.columns.append("patch")
        if layout.trio:
            self.columns.append("half")
        self._email = self.columns.index("v_email") if "email" in layout.builtins else None
        self.keys = Keys(email_position(layout))
        self.loaded = 0
        # Seconds per stage of the merge (match, update, insert, rebuild).
        self.timings: dict[str, float] = {}
        self._mark = time.perf_counter()

    def is_set(self, b: str) -> str:
        """SQL: does staged row ``s`` set built-in ``b``?"""
        if self.layout.trio and b in NAME_TRIO:
            return f"s.s_{b}"
        if self.layout.empty_clears and b != "email":
            # An empty email cell never clears the identity, even in clear mode.
            return "true" if self.pg else "1"
        return f"(s.v_{b} IS NOT NULL)"

    @property
    def key(self) -> str:
        """SQL: the key a row names its user by (id, else email)."""
        return "COALESCE(ext_id, v_email)" if self._email is not None else "ext_id"

    # --- loading --------------------------------------------------------------

    def create(self) -> None:
        """The staging table. TEMP on both databases: on SQLite it lives in
        the connection's temp database, so filling it takes no write lock
        on the main database (other writers keep going while the file is
        read); on PostgreSQL it is dropped at commit and never WAL-logged."""
        types = {"line": "bigint", "ext_id": "text", "patch": "jsonb"}
        defs = []
        for c in self.columns:
            if c.startswith("v_"):
                t = _pg_type(c[2:]) if self.pg else ""
            elif c.startswith("s_") or c == "half":
                t = "boolean" if self.pg else ""
            else:
                t = types[c] if self.pg else ""
            defs.append(f"{c} {t}".strip())
        defs.append("person_id bigint" if self.pg else "person_id")
        with connection.cursor() as cur:
            if self.pg:
                self._room_for_temp_tables(cur)
                cur.execute(f"CREATE TEMP TABLE {self.table} ({', '.join(defs)}) ON COMMIT DROP")
            else:
                cur.execute(f"DROP TABLE IF EXISTS temp.{self.table}")
                cur.execute(f"CREATE TEMP TABLE {self.table} ({', '.join(defs)})")

    @staticmethod
    def _room_for_temp_tables(cur: Any) -> None:
        """PostgreSQL keeps a TEMP table in the session's own buffers, 8 MB by
        default: matching rewrites every staged row (150 MB per 1M rows), so
        most of them went to disk and back (measured 9.8 -> 7.0 s per 1M).
        The setting can change only before the session's first TEMP table
        (and then only to the same value), hence always this one, and a
        refusal is no error: the import just runs with what the session has."""
        try:
            with transaction.atomic():
                cur.execute(f"SET LOCAL temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError:
            pass

    @contextmanager
    def filling(self) -> Iterator[None]:
        """SQLite, outside any transaction: one transaction for all the
        staging inserts (200 autocommits cost 2x), DEFERRED so that it
        locks only the temp database, never the main one."""
        if self.pg or connection.in_atomic_block:
            yield
            return
        raw = connection.connection
        raw.execute("BEGIN DEFERRED")
        try:
            yield
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    def drop(self) -> None:
        if not self.pg:
            with connection.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS temp.{self.table}")

    @property
    def maybe_duplicates(self) -> int:
        return self.keys.maybe_duplicates

    @property
    def duplicate_lines(self) -> list[int]:
        return self.keys.duplicate_lines

    @property
    def copy_sql(self) -> str:
        return f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN"

    def load_copy(self, data: bytes, rows: int) -> None:
        """PostgreSQL: rows the reader process already made COPY text of
        (and whose keys it noted)."""
        self.loaded += rows
        with connection.cursor() as cur, cur.cursor.copy(self.copy_sql) as copy:
            copy.write(data)

    def load(self, rows: list[StagedRow]) -> None:
        self.keys.note(rows)
        self.loaded += len(rows)
        with connection.cursor() as cur:
            if self.pg:
                with cur.cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                rows = self._sqlite_rows(rows)
                marks = ", ".join(["?"] * len(self.columns))
                # The driver's cursor: Django's wrapper would rewrite the query per call.
                cur.cursor.executemany(
                    f"INSERT INTO temp.{self.table} ({', '.join(self.columns)}) VALUES ({marks})",
                    rows,
                )

    def _sqlite_rows(self, rows: list[StagedRow]) -> list[StagedRow]:
        idx = [self.columns.index(f"v_{b}") for b in _DATES if b in self.layout.builtins]
        if not idx:
            return rows
        adapt = connection.ops.adapt_datetimefield_value
        out = []
        for row in rows:
            r = list(row)
            for i in idx:
                if r[i] is not None:
                    r[i] = adapt(r[i])
            out.append(tuple(r))
        return out

    # --- merging --------------------------------------------------------------

    def merge(
        self,
        workspace_id: int,
        mode: str,
        now: datetime,
        step: Callable[[str], None] = lambda s: None,
    ) -> dict[str, Any]:
        t = self.table
        b = self.layout.builtins
        has_email = "email" in b
        result: dict[str, Any] = {"duplicates": 0, "skipped": 0}
        self._mark = time.perf_counter()
        with connection.cursor() as cur:
            if self.maybe_duplicates:
                step("removing duplicates")
                result["duplicates"] += self._drop_repeats(cur)
            step("matching users")
            ws = workspace_id
            if self.pg:
                # Statistics for the planner (autovacuum never analyzes a TEMP
                # table), and room for the joins' hashes and sorts in memory.
                cur.execute(f"ANALYZE {t}")
                cur.execute("SET LOCAL work_mem = '256MB'")
                # New index entries for person_email_trgm (GIN) go to its pending
                # list and are merged in bulk later (autovacuum), instead of one
                # trigram posting-tree insert each; measured 11 s -> 4 s per 200k rows.
                cur.execute("SET LOCAL gin_pending_list_limit = '1GB'")
            cur.execute(
                f"UPDATE {t} SET person_id = p.id FROM {PERSON} p "
                f"WHERE {t}.ext_id IS NOT NULL AND p.workspace_id = %s "
                f"AND p.external_id = {t}.ext_id",
                [ws],
            )
            if has_email:
                # A user still keyed by its email is upgraded to the row's id.
                cur.execute(
                    f"UPDATE {t} SET person_id = p.id FROM {PERSON} p "
                    f"WHERE {t}.person_id IS NULL AND {t}.ext_id IS NOT NULL "
                    f"AND {t}.v_email IS NOT NULL AND p.workspace_id = %s "
                    f"AND p.external_id = {t}.v_email AND p.email = {t}.v_email",
                    [ws],
                )
                cur.execute(
                    f"UPDATE {t} SET person_id = p.id FROM {PERSON} p "
                    f"WHERE {t}.ext_id IS NULL AND p.workspace_id = %s "
                    f"AND p.external_id = {t}.v_email",
                    [ws],
                )
                cur.execute(
                    f"UPDATE {t} SET person_id = (SELECT p.id FROM {PERSON} p "
                    f"WHERE p.workspace_id = %s AND p.email = {t}.v_email "
                    "ORDER BY p.updated_at DESC, p.id DESC LIMIT 1) "
                    f"WHERE {t}.ext_id IS NULL AND {t}.person_id IS NULL",
                    [ws],
                )
                result["duplicates"] += self._fold_new_email_rows(cur)
                # Two rows with different keys may still find the same user.
                cur.execute(
                    f"SELECT 1 FROM {t} WHERE person_id IS NOT NULL "
                    "GROUP BY person_id HAVING count(*) > 1 LIMIT 1"
                )
                if cur.fetchone():
                    # Row by row, the first id that upgrades an email-keyed user
                    # takes it; a later row with another id and that email finds
                    # no one (the user is no longer keyed by the email) and is a
                    # new user.
                    cur.execute(
                        f"UPDATE {t} SET person_id = NULL WHERE person_id IS NOT NULL "
                        f"AND ext_id IS NOT NULL AND EXISTS (SELECT 1 FROM {t} z "
                        f"WHERE z.person_id = {t}.person_id AND z.ext_id IS NOT NULL "
                        f"AND z.ext_id <> {t}.ext_id AND z.line < {t}.line)"
                    )
                    # The last row wins, but an id an earlier row gave the user
                    # stays theirs (row by row, that row upgraded them to it).
                    cur.execute(
                        f"UPDATE {t} SET ext_id = (SELECT z.ext_id FROM {t} z "
                        f"WHERE z.person_id = {t}.person_id AND z.ext_id IS NOT NULL "
                        f"ORDER BY z.line DESC LIMIT 1) "
                        f"WHERE {t}.ext_id IS NULL AND {t}.person_id IS NOT NULL"
                    )
                    cur.execute(
                        f"DELETE FROM {t} WHERE person_id IS NOT NULL AND EXISTS ("
                        f"SELECT 1 FROM {t} z WHERE z.person_id = {t}.person_id "
                        f"AND z.line > {t}.line)"
                    )
                    result["duplicates"] += cur.rowcount
            if mode == "create":
                cur.execute(f"DELETE FROM {t} WHERE person_id IS NOT NULL")
                result["skipped"] = cur.rowcount
            elif mode == "update":
                cur.execute(f"DELETE FROM {t} WHERE person_id IS NULL")
                result["skipped"] = cur.rowcount
            if self.layout.trio:
                self._fill_halves(cur)
            cur.execute(f"SELECT count(*) FROM {t} WHERE person_id IS NOT NULL")
            matched = cur.fetchone()[0]
            result["subscription_kept"] = 0
            if "email_subscription" in b:
                # true never resubscribes someone who unsubscribed: say how many
                # rows asked for it, rather than count them as applied.
                cur.execute(
                    f"SELECT count(*) FROM {t} s JOIN {PERSON} p ON p.id = s.person_id "
                    f"WHERE {self.is_set('email_subscription')} AND s.v_email_subscription "
                    "AND NOT p.email_subscription"
                )
                result["subscription_kept"] = cur.fetchone()[0]
            plan = self._plan_rebuild(cur) if self.pg else None
            self.timings["match"] = self._lap()
            step("updating users")
            stamp = now if self.pg else connection.ops.adapt_datetimefield_value(now)
            result["updated"] = 0
            for sql in self._update_sql(None if self.pg else self._indexed_columns(cur)):
                cur.execute(sql, [stamp])
                result["updated"] += max(cur.rowcount, 0)
            result["unchanged"] = matched - result["updated"]
            self.timings["update"] = self._lap()
            step("creating users")
            cur.execute(self._insert_sql(ordered=plan is None), [ws, stamp, stamp, stamp])
            result["created"] = max(cur.rowcount, 0)
            self.timings["insert"] = self._lap()
            if plan is not None:
                step("rebuilding indexes")
                plan.restore(cur)
                self.timings["rebuild"] = self._lap()
        result["rebuilt_indexes"] = plan is not None
        return result

    def _lap(self) -> float:
        """Seconds since the last lap (the stage times the import logs)."""
        now = time.perf_counter()
        took, self._mark = now - self._mark, now
        return round(took, 2)

    def _plan_rebuild(self, cur: Any) -> rebuild.Rebuild | None:
        """PostgreSQL: drop people's secondary indexes and its foreign key if
        this import adds users to at least half the table's size; see
        pavior.imports.rebuild (updates alone never do: a full re-import
        measured no clear gain, and it would hold people exclusively)."""
        cur.execute(f"SELECT count(*) FROM {self.table} WHERE person_id IS NULL")
        new = cur.fetchone()[0]
        if new < rebuild.MIN_ROWS:
            return None
        existing = rebuild.existing_rows(cur, int(new / rebuild.SHARE) + 1)
        if not rebuild.worth_it(new, existing):
            return None
        return rebuild.take(cur)

    def _drop_repeats(self, cur: Any) -> int:
        """Last row wins: drop every row that a later row repeats (same key)."""
        t = self.table
        mail = "v_email" if self._email is not None else "NULL"
        z_key = f"COALESCE(z.ext_id, z.{mail})" if self._email is not None else "z.ext_id"
        if self.pg:
            a_key = z_key.replace("z.", "a.")
            cur.execute(
                f"DELETE FROM {t} a USING {t} z WHERE z.line > a.line AND {z_key} = {a_key}"
            )
        else:
            t_key = z_key.replace("z.", f"{t}.")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {t}_key ON {t} ({self.key}, line)")
            cur.execute(
                f"DELETE FROM {t} WHERE EXISTS (SELECT 1 FROM {t} z "
                f"WHERE {z_key} = {t_key} AND z.line > {t}.line)"
            )
        return max(cur.rowcount, 0)

    def _fold_new_email_rows(self, cur: Any) -> int:
        """A row with only an email and a row with an id and that email, when
        no user matches either: upsert_user row by row makes one user (the
        later row finds the earlier one by email, or upgrades it to the id),
        so the email-only row takes that id and the two count as the same
        user (last row wins). Returns the rows dropped."""
        t = self.table
        cur.execute(
            f"SELECT 1 FROM {t} WHERE ext_id IS NULL AND person_id IS NULL "
            "AND v_email IS NOT NULL LIMIT 1"
        )
        if cur.fetchone() is None:
            return 0
        cur.execute(f"SELECT 1 FROM {t} WHERE ext_id IS NOT NULL AND person_id IS NULL LIMIT 1")
        if cur.fetchone() is None:
            return 0
        cur.execute(
            f"UPDATE {t} SET ext_id = z.ext_id FROM ("
            "SELECT v_email, ext_id, "
            "row_number() OVER (PARTITION BY v_email ORDER BY line DESC) AS n "
            f"FROM {t} WHERE ext_id IS NOT NULL AND person_id IS NULL AND v_email IS NOT NULL"
            f") z WHERE z.n = 1 AND z.v_email = {t}.v_email "
            f"AND {t}.ext_id IS NULL AND {t}.person_id IS NULL"
        )
        return self._drop_repeats(cur) if cur.rowcount else 0

    def _fill_halves(self, cur: Any) -> None:
        """Rows that give only first_name or only last_name: name comes from
        that half and the stored user's other half, as upsert_user does."""
        t = self.table
        cur.execute(
            f"SELECT s.line, s.s_first_name, s.v_first_name, s.s_last_name, s.v_last_name, "
            f"p.first_name, p.last_name FROM {t} s LEFT JOIN {PERSON} p ON p.id = s.person_id "
            "WHERE s.half"
        )
        fixes = []
        for line, s_first, first, s_last, last, p_first, p_last in cur.fetchall():
            call = {"first_name": first if s_first else p_first}
            call["last_name"] = last if s_last else p_last
            d = derive_names(call)
            if "name" in d:
                fixes.append((d["name"], line))
        if fixes:
            cur.executemany(
                f"UPDATE {t} SET v_name = %s, s_name = {'true' if self.pg else '1'} "
                "WHERE line = %s",
                fixes,
            )

    def _update_parts(self) -> list[tuple[str, str, str]]:
        """Per column a matched user may get: (column, SET expression, SQL
        true when the row changes it)."""
        distinct = "IS DISTINCT FROM" if self.pg else "IS NOT"
        parts: list[tuple[str, str, str]] = []  # (column, SET expression, changed test)
        for b in self.layout.builtins:
            on = self.is_set(b)
            if b == "email_subscription":
                parts.append(
                    (
                        b,
                        f"email_subscription = CASE WHEN {on} AND NOT s.v_{b} THEN false "
                        "ELSE p.email_subscription END",
                        f"({on} AND NOT s.v_{b} AND p.email_subscription)",
                    )
                )
                continue
            parts.append(
                (
                    b,
                    f"{b} = CASE WHEN {on} THEN s.v_{b} ELSE p.{b} END",
                    f"({on} AND s.v_{b} {distinct} p.{b})",
                )
            )
        parts.append(
            (
                "external_id",
                "external_id = COALESCE(s.ext_id, p.external_id)",
                "(s.ext_id IS NOT NULL AND s.ext_id <> p.external_id)",
            )
        )
        if self.layout.has_custom:
            merged = (
                "jsonb_strip_nulls(p.custom || s.patch)"
                if self.pg
                else "json_patch(p.custom, s.patch)"
            )
            current = "p.custom" if self.pg else "json(p.custom)"
            parts.append(
                (
                    "custom",
                    f"custom = CASE WHEN s.patch IS NULL THEN p.custom ELSE {merged} END",
                    f"(s.patch IS NOT NULL AND {merged} <> {current})",
                )
            )
        return parts

    def _update_sql(self, indexed: set[str] | None = None) -> list[str]:
        """The UPDATE statements for matched users (each takes the stamp).

        One statement on PostgreSQL. On SQLite, an UPDATE rewrites the entries
        of every index on a column it SETs, changed or not; so rows whose
        indexed columns (``indexed``) change get the full statement, and the
        other changed rows one that sets only unindexed columns (a re-import
        that changes a custom value no longer rewrites four indexes).
        """
        t = self.table
        parts = self._update_parts()

        def statement(sets: list[str], changed: list[str]) -> str:
            return (
                f"UPDATE {PERSON} AS p SET {', '.join([*sets, 'updated_at = %s'])} FROM {t} s "
                f"WHERE p.id = s.person_id AND ({' OR '.join(changed)})"
            )

        if indexed is None:
            return [statement([p[1] for p in parts], [p[2] for p in parts])]
        keyed = [p for p in parts if p[0] in indexed]
        plain = [p for p in parts if p[0] not in indexed]
        out = []
        if keyed:
            # First: these rows get every column (after it, they show no change).
            out.append(statement([p[1] for p in parts], [p[2] for p in keyed]))
        if plain:
            out.append(statement([p[1] for p in plain], [p[2] for p in plain]))
        return out

    def _indexed_columns(self, cur: Any) -> set[str]:
        """Columns of people that some SQLite index covers (expression
        indexes: every column their SQL names, to be safe)."""
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [PERSON]
        )
        indexes = cur.fetchall()
        columns = [f.column for f in Person._meta.concrete_fields]
        out: set[str] = set()
        for name, sql in indexes:
            quoted = '"' + name.replace('"', '""') + '"'
            cur.execute(f"PRAGMA index_xinfo({quoted})")
            for _seq, cid, col, *_rest in cur.fetchall():
                if cid >= 0 and col:
                    out.add(col)
                elif cid == -2:
                    text = (sql or "").lower()
                    out.update(c for c in columns if c and re.search(rf"\b{c}\b", text))
        return out

    def _insert_sql(self, ordered: bool = True) -> str:
        t = self.table
        b = self.layout.builtins
        cols = ["workspace_id", "external_id", "total_visits", "total_time_spent"]
        key = "COALESCE(s.ext_id, s.v_email)" if "email" in b else "s.ext_id"
        vals = ["%s", key, "0", "0"]
        for name in b:
            if name in ("email_subscription", "first_known_at"):
                continue
            cols.append(name)
            vals.append(f"CASE WHEN {self.is_set(name)} THEN s.v_{name} END")
        cols.append("email_subscription")
        vals.append(
            "COALESCE(s.v_email_subscription, true)" if "email_subscription" in b else "true"
        )
        cols.append("first_known_at")
        vals.append(
            f"CASE WHEN {self.is_set('first_known_at')} THEN s.v_first_known_at ELSE %s END"
            if "first_known_at" in b
            else "%s"
        )
        cols.append("custom")
        if self.layout.has_custom:
            vals.append(
                (
                    "COALESCE(jsonb_strip_nulls(s.patch), '{}'::jsonb)"
                    if self.layout.empty_clears
                    # Only "clear" stages nulls: rebuilding every document to
                    # strip none costs ~2 s per 1M rows.
                    else "COALESCE(s.patch, '{}'::jsonb)"
                )
                if self.pg
                else "COALESCE(json_patch('{}', s.patch), '{}')"
            )
        else:
            vals.append("'{}'")
        cols += ["created_at", "updated_at"]
        vals += ["%s", "%s"]
        # In key order: the unique (workspace_id, external_id) index and the
        # others that follow it take the new entries almost in sequence
        # instead of all over the tree (11 s -> 6.6 s per 200k rows). Not when
        # the indexes are rebuilt afterwards: the sort (on disk at 1M rows)
        # then costs more than it saves the unique index.
        return (
            f"INSERT INTO {PERSON} ({', '.join(cols)}) SELECT {', '.join(vals)} "
            f"FROM {t} s WHERE s.person_id IS NULL" + (f" ORDER BY {key}" if ordered else "")
        )


__all__ = ["NAME_TRIO", "Stage"]
