"""One pass over the file: coerce every cell, column by column, and stage valid rows.

The same pass serves the wizard's validation (nothing staged) and the import
itself, so what the wizard reports is what the import will do. Cells are
coerced with the shared rules (pavior.core.attributes.coerce_value), a chunk
of rows at a time per column, with fast paths only where the result is
provably the same (a short plain string is itself).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as encode_basestring  # type: ignore[attr-defined]
from typing import Any, TextIO

from pavior.core.attributes import AttributeDef, AttrType, coerce_value
from pavior.core.csv_rules import date_order_evidence
from pavior.core.dates import to_epoch
from pavior.core.errors import PaviorError
from pavior.core.profile import derive_names
from pavior.imports.mapping import Column
from pavior.imports.reading import CsvFile, iter_rows

CHUNK = 5000
SAMPLES = 5
NAME_TRIO = ("name", "first_name", "last_name")
# Built-ins an import may write, in staging-column order (id/email are the identity).
WRITABLE_BUILTINS = (
    "email",
    "name",
    "first_name",
    "last_name",
    "phone",
    "city",
    "country",
    "first_known_at",
    "signed_up_at",
    "email_subscription",
)
# A rejected row's cells are cut to this many characters in the rejects file,
# so one huge field cannot make that file huge too.
REJECT_CELL_CAP = 1000


class Cancelled(Exception):
    """Someone asked to stop the import."""


@dataclass
class Options:
    empty_clears: bool = False
    day_first: bool | None = None
    max_string_length: int = 1000


@dataclass
class ColumnReport:
    header: str
    attribute: str
    type: str
    new: bool
    bad: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    ambiguous_dates: int = 0
    day_first_evidence: int = 0
    month_first_evidence: int = 0

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Report:
    rows: int = 0
    valid: int = 0
    rejected: int = 0
    padded: int = 0
    columns: list[ColumnReport] = field(default_factory=list)
    rejected_samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def needs_date_order(self) -> bool:
        return any(
            c.ambiguous_dates or c.day_first_evidence or c.month_first_evidence
            for c in self.columns
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "rejected": self.rejected,
            "padded": self.padded,
            "needs_date_order": self.needs_date_order,
            "columns": [c.as_json() for c in self.columns],
            "rejected_samples": self.rejected_samples,
        }


@dataclass
class Layout:
    """What the staging table holds for this mapping."""

    builtins: list[str]  # WRITABLE_BUILTINS that this import may set
    custom: list[Column]
    trio: bool  # name / first_name / last_name involved: derive per row

    @property
    def has_custom(self) -> bool:
        return bool(self.custom)


def layout_for(columns: list[Column]) -> Layout:
    names = {c.attr.name for c in columns}
    trio = bool(names & set(NAME_TRIO))
    builtins = [b for b in WRITABLE_BUILTINS if b in names or (trio and b in NAME_TRIO)]
    return Layout(builtins, [c for c in columns if not c.attr.builtin], trio)


StagedRow = tuple[Any, ...]


def run_pass(
    src: CsvFile,
    columns: list[Column],
    options: Options,
    *,
    stage: Callable[[list[StagedRow]], None] | None = None,
    rejects: TextIO | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Report:
    """Read the whole file once; stage valid rows in chunks; report per column."""
    report = Report(
        columns=[ColumnReport(c.header, c.attr.name, c.attr.type.value, c.new) for c in columns]
    )
    layout = layout_for(columns)
    writer = None
    if rejects is not None:
        writer = csv.writer(rejects)
        writer.writerow([*src.header, "reason"])
    width = len(src.header)

    def progress(done: int) -> None:
        if on_progress is not None:
            on_progress(done, report.rows)
        if should_stop is not None and should_stop():
            raise Cancelled

    for chunk in _chunks(iter_rows(src, on_progress=progress)):
        staged = _process_chunk(chunk, columns, layout, options, report, writer, width)
        if stage is not None and staged:
            stage(staged)
    return report


def _chunks(rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_MISSING = object()  # cell is empty and means "leave unchanged"


def _process_chunk(
    chunk: list[tuple[int, list[str]]],
    columns: list[Column],
    layout: Layout,
    options: Options,
    report: Report,
    writer: Any,
    width: int,
) -> list[StagedRow]:
    report.rows += len(chunk)
    errors: dict[int, list[str]] = {}
    for pos, (line, cells) in enumerate(chunk):
        if len(cells) < width:
            report.padded += 1
        elif len(cells) > width and any(c.strip() for c in cells[width:]):
            errors[pos] = [f"line {line} has {len(cells)} fields, the header has {width}"]
    # Column by column: one coercion routine per column over the whole chunk.
    values: dict[str, list[Any]] = {}
    for col, col_report in zip(columns, report.columns, strict=True):
        cells = [r[1][col.index] if col.index < len(r[1]) else "" for r in chunk]
        values[col.attr.name] = _coerce_column(col, cells, chunk, options, col_report, errors)
    staged: list[StagedRow] = []
    get_id = values.get("id")
    get_email = values.get("email")
    for pos, (line, cells) in enumerate(chunk):
        if pos not in errors:
            ext_id = get_id[pos] if get_id is not None else _MISSING
            email = get_email[pos] if get_email is not None else _MISSING
            if _absent(ext_id) and _absent(email):
                errors[pos] = ["the row has no id and no email"]
            else:
                staged.append(_stage_row(line, pos, values, layout))
                continue
        report.rejected += 1
        reason = "; ".join(errors[pos])
        if len(report.rejected_samples) < 20:
            report.rejected_samples.append({"line": line, "reason": reason})
        if writer is not None:
            row = [c if len(c) <= REJECT_CELL_CAP else c[:REJECT_CELL_CAP] + "…" for c in cells]
            writer.writerow([*row, reason])
    report.valid += len(staged)
    return staged


def _absent(v: Any) -> bool:
    return v is _MISSING or v is None


def _coerce_column(
    col: Column,
    cells: list[str],
    chunk: list[tuple[int, list[str]]],
    options: Options,
    rep: ColumnReport,
    errors: dict[int, list[str]],
) -> list[Any]:
    attr = col.attr
    empty: Any = None if options.empty_clears else _MISSING
    maxlen = options.max_string_length
    out: list[Any] = []
    append = out.append
    is_string = attr.type is AttrType.STRING
    is_date = attr.type is AttrType.DATE
    cache: dict[str, Any] = {}
    for pos, cell in enumerate(cells):
        if not cell or not cell.strip():
            append(empty)
            continue
        if is_string and len(cell) <= maxlen and "\x00" not in cell:
            append(cell)  # exactly what coerce_value returns for it
            continue
        hit = cache.get(cell, _MISSING)
        if hit is not _MISSING:
            append(hit)
            continue
        if is_date and options.day_first is None:
            evidence = date_order_evidence(cell)
            if evidence == "ambiguous":
                rep.ambiguous_dates += 1
            elif evidence == "day_first":
                rep.day_first_evidence += 1
            elif evidence == "month_first":
                rep.month_first_evidence += 1
        try:
            value = coerce_value(attr, cell, day_first=options.day_first, max_string_length=maxlen)
        except PaviorError as e:
            line = chunk[pos][0]
            rep.bad += 1
            if len(rep.samples) < SAMPLES:
                shown = cell if len(cell) <= 80 else cell[:80] + "…"
                rep.samples.append({"line": line, "value": shown, "message": e.message})
            errors.setdefault(pos, []).append(f"{col.header or attr.name}: {e.message}")
            append(None)
            continue
        if is_date and len(cache) < 50000:
            cache[cell] = value
        append(value)
    return out


def _stage_row(line: int, pos: int, values: dict[str, list[Any]], layout: Layout) -> StagedRow:
    """(line, key, ext_id, [value, set] per built-in, patch JSON, half)."""
    ext_id = values["id"][pos] if "id" in values else _MISSING
    ext_id = None if ext_id is _MISSING else ext_id
    given = {name: vals[pos] for name, vals in values.items() if vals[pos] is not _MISSING}
    half = False
    if layout.trio:
        trio = {k: given[k] for k in NAME_TRIO if k in given}
        if ("first_name" in trio) != ("last_name" in trio) and "name" not in trio:
            # The other half comes from the stored user; filled in after matching.
            half = True
        else:
            given.update(derive_names(trio))
    email = given.get("email")
    row: list[Any] = [line, ext_id if ext_id is not None else email, ext_id]
    for b in layout.builtins:
        if b in given:
            row.append(given[b])
            row.append(True)
        else:
            row.append(None)
            row.append(False)
    if layout.custom:
        parts = []
        for col in layout.custom:
            v = given.get(col.attr.name, _MISSING)
            if v is not _MISSING:
                parts.append(f"{encode_basestring(col.attr.name)}:{_json_scalar(col.attr, v)}")
        row.append("{" + ",".join(parts) + "}" if parts else None)
    row.append(half)
    return tuple(row)


def _json_scalar(attr: AttributeDef, v: Any) -> str:
    # As pavior.people.actions.stored_value would store it, as JSON text.
    if v is None:
        return "null"
    if attr.type is AttrType.STRING:
        return encode_basestring(v)
    if attr.type is AttrType.DATE:
        v = to_epoch(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    return repr(v) if isinstance(v, float) else str(v)
