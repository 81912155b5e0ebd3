"""Staged rows on their way to the staging table, without Django: which rows
may repeat a user's key, and PostgreSQL's COPY text for a chunk of rows.

Both run in the reader process (pavior.imports.parallel) when the file is
read there, so the importing process only passes COPY bytes on to the
server instead of unpickling and formatting a million tuples itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pavior.imports.pipeline import Layout, StagedRow


def email_position(layout: Layout) -> int | None:
    """Where a staged row holds the email (rows are line, ext_id, built-ins...)."""
    return 2 + layout.builtins.index("email") if "email" in layout.builtins else None


class Keys:
    """Rows whose key (id, else email) an earlier row already gave: hash
    equality, so it may over-count; the merge removes only real duplicates."""

    def __init__(self, email: int | None) -> None:
        self.email = email
        self._seen: set[int] = set()
        self.maybe_duplicates = 0
        self.duplicate_lines: list[int] = []

    def note(self, rows: list[StagedRow]) -> None:
        e = self.email
        keys = [r[1] if r[1] is not None else r[e] for r in rows] if e is not None else None
        hashes = list(map(hash, keys if keys is not None else (r[1] for r in rows)))
        fresh = set(hashes)
        again = fresh & self._seen
        if again or len(fresh) < len(hashes):
            # Rare: note the rows that repeat a key.
            local: set[int] = set()
            for row, h in zip(rows, hashes, strict=True):
                if h in again or h in local:
                    self.maybe_duplicates += 1
                    if len(self.duplicate_lines) < 20:
                        self.duplicate_lines.append(row[0])
                local.add(h)
        self._seen |= fresh

    def take(self, maybe_duplicates: int, duplicate_lines: list[int]) -> None:
        """What the reader process's Keys found (it saw the rows, not this one)."""
        self.maybe_duplicates = maybe_duplicates
        self.duplicate_lines = duplicate_lines


# PostgreSQL COPY text format: these four must be escaped inside a value.
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_SPECIAL = ("\\", "\n", "\r", "\t")
NULL = "\\N"


def copy_text(rows: list[StagedRow]) -> bytes:
    """The rows as PostgreSQL COPY text (what psycopg's write_row sends),
    built a column at a time: one type check per column, not per cell."""
    if not rows:
        return b""
    columns = [_column(col) for col in zip(*rows, strict=True)]
    return ("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n").encode()


_BOOLS = {True: "t", False: "f", None: NULL}


def _column(col: tuple[Any, ...]) -> Sequence[str]:
    # C-speed paths (map, membership) where the column allows: this runs in
    # the reader process, which is the import's bottleneck while reading.
    kinds = set(map(type, col))
    kinds.discard(type(None))
    if not kinds:
        return [NULL] * len(col)
    if kinds == {bool}:
        return list(map(_BOOLS.__getitem__, col))
    nulls = None in col
    if kinds == {str}:
        text = "".join(v for v in col if v is not None) if nulls else "".join(col)
        if any(c in text for c in _SPECIAL):
            return [NULL if v is None else v.translate(_ESCAPES) for v in col]
        return [NULL if v is None else v for v in col] if nulls else col
    if kinds == {int} and not nulls:
        return list(map(str, col))
    return [_cell(v) for v in col]


def _cell(v: Any) -> str:
    if v is None:
        return NULL
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, str):
        return v.translate(_ESCAPES)
    return str(v)
