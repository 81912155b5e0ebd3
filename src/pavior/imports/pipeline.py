"""One pass over the file: coerce every cell, column by column, and stage valid rows.

The same pass serves the wizard's validation (nothing staged) and the import
itself, so what the wizard reports is what the import will do. Cells are
coerced with the shared rules (pavior.core.attributes.coerce_value), a chunk
of rows at a time per column, with fast paths only where the result is
provably the same (a short plain string is itself).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from json.encoder import encode_basestring_ascii as encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any, TextIO

from pavior.core.attributes import BUILTINS, AttributeDef, AttrType, Trust
from pavior.core.bulk import coerce_cells
from pavior.core.countries import country_from_text
from pavior.core.csv_rules import date_order_evidence, neutralise, unneutralise
from pavior.core.dates import to_epoch
from pavior.core.profile import derive_names
from pavior.imports.mapping import Column
from pavior.imports.reading import CsvFile, iter_rows

CHUNK = 5000
SAMPLES = 5
NAME_TRIO = ("name", "first_name", "last_name")
# Built-ins an import may write, in staging-column order: the core's rule
# (writable at import trust), `id` apart because it is the row's identity.
WRITABLE_BUILTINS = tuple(
    name for name, attr in BUILTINS.items() if Trust.IMPORT in attr.writable_by and name != "id"
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
    # Whether an empty cell clears. It decides how the merge knows that a row
    # sets a built-in: keep -> the staged value is not NULL; clear -> always.
    # Only the name trio needs per-row flags (derive_names may set a None).
    empty_clears: bool = False

    @property
    def has_custom(self) -> bool:
        return bool(self.custom)


def layout_for(columns: list[Column], empty_clears: bool = False) -> Layout:
    names = {c.attr.name for c in columns}
    trio = bool(names & set(NAME_TRIO))
    builtins = [b for b in WRITABLE_BUILTINS if b in names or (trio and b in NAME_TRIO)]
    return Layout(builtins, [c for c in columns if not c.attr.builtin], trio, empty_clears)


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
    layout = layout_for(columns, options.empty_clears)
    writer = None
    if rejects is not None:
        writer = csv.writer(rejects)
        writer.writerow([*map(neutralise, src.header), "reason"])
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
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


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
    rows = [cells for _, cells in chunk]
    lengths = set(map(len, rows))
    if lengths != {width}:
        # Only files with ragged rows pay for the per-row check.
        for pos, (line, cells) in enumerate(chunk):
            if len(cells) < width:
                report.padded += 1
                rows[pos] = cells + [""] * (width - len(cells))
            elif len(cells) > width and any(c.strip() for c in cells[width:]):
                errors[pos] = [f"line {line} has {len(cells)} fields, the header has {width}"]
    # Transpose once, then coerce column by column over the whole chunk.
    by_column = list(zip(*rows, strict=False)) if rows else []
    values: dict[str, list[Any]] = {}
    for col, col_report in zip(columns, report.columns, strict=True):
        values[col.attr.name] = _coerce_column(
            col, by_column[col.index], chunk, options, col_report, errors
        )
    n = len(chunk)
    lines = [line for line, _ in chunk]
    ext = values.get("id")
    mail = values.get("email")
    # A row needs an id or an email (None: empty cell, or a cell that failed).
    if ext is None or mail is None:
        only = ext if ext is not None else mail
        if only is None:
            nobody: list[int] | range = range(n)
        else:
            nobody = [pos for pos, v in enumerate(only) if v is None]
    else:
        nobody = [pos for pos, (e, m) in enumerate(zip(ext, mail, strict=True)) if e is m is None]
    for pos in nobody:
        if pos not in errors:
            errors[pos] = ["the row has no id and no email"]
    staged = _stage_rows(lines, values, layout, n)
    if errors:
        for pos in sorted(errors):
            line, cells = chunk[pos]
            reason = "; ".join(errors[pos])
            report.rejected += 1
            if len(report.rejected_samples) < 20:
                report.rejected_samples.append({"line": line, "reason": reason})
            if writer is not None:
                # The uploaded cells go back as they were, except that none
                # may run as a formula where the file is opened.
                cut = [c if len(c) <= REJECT_CELL_CAP else c[:REJECT_CELL_CAP] + "…" for c in cells]
                writer.writerow([*map(neutralise, cut), neutralise(reason)])
        staged = [row for pos, row in enumerate(staged) if pos not in errors]
    report.valid += len(staged)
    return staged


def _coerce_column(
    col: Column,
    cells: tuple[str, ...],
    chunk: list[tuple[int, list[str]]],
    options: Options,
    rep: ColumnReport,
    errors: dict[int, list[str]],
) -> list[Any]:
    """Stored values of one column; None for an empty cell (which the layout
    reads as "unchanged" or "clear") and for a refused one (its row is rejected)."""
    attr = col.attr
    # One C-speed search instead of a Python test per cell (15 % of the
    # reading's time); a quote after a cell's inner NUL-free text is only a
    # false alarm, and unneutralise decides per cell anyway.
    if cells and (cells[0][:1] == "'" or "\x00'" in "\x00".join(cells)):
        # "'+34 600…", "'-5": a spreadsheet's (and our export's) guard against
        # formulas, not part of the value.
        cells = tuple(map(unneutralise, cells))
    values, refused = coerce_cells(
        attr, cells, day_first=options.day_first, max_string_length=options.max_string_length
    )
    if col.invert:  # "Unsubscribed: true" is "Email subscription: false"
        values = [None if v is None else not v for v in values]
    elif attr.name == "country":  # one form, whatever the file holds: GeoIP's names
        names = {v: country_from_text(v) for v in set(values) if isinstance(v, str)}
        values = [names.get(v) if isinstance(v, str) else v for v in values]
    if attr.type is AttrType.DATE and options.day_first is None:
        for cell, k in Counter(cells).items():
            evidence = date_order_evidence(cell)
            if evidence == "ambiguous":
                rep.ambiguous_dates += k
            elif evidence == "day_first":
                rep.day_first_evidence += k
            elif evidence == "month_first":
                rep.month_first_evidence += k
    for pos, message in refused.items():  # in position order
        rep.bad += 1
        if len(rep.samples) < SAMPLES:
            cell = cells[pos]
            shown = cell if len(cell) <= 80 else cell[:80] + "…"
            rep.samples.append({"line": chunk[pos][0], "value": shown, "message": message})
        errors.setdefault(pos, []).append(f"{col.header or attr.name}: {message}")
    return values


_TrioRow = tuple[Any, Any, Any, bool, bool, bool, bool]


def _trio(values: dict[str, list[Any]], n: int, empty_clears: bool) -> list[list[Any]]:
    """name, first_name, last_name after derive_names, whether the row sets
    each, and whether it gives one half only (its name then needs the stored
    user's other half): seven columns."""
    none = [None] * n
    cols = [values.get(k, none) for k in NAME_TRIO]
    mapped = [k in values for k in NAME_TRIO]
    cache: dict[tuple[Any, ...], _TrioRow] = {}
    out: list[_TrioRow] = []
    for t in zip(*cols, strict=True):
        r = cache.get(t)
        if r is None:
            # A mapped column's None is an empty cell: it clears, or leaves unchanged.
            given = {
                k: v
                for k, v, m in zip(NAME_TRIO, t, mapped, strict=True)
                if m and (empty_clears or v is not None)
            }
            if ("first_name" in given) != ("last_name" in given) and "name" not in given:
                d, is_half = given, True
            else:
                d, is_half = derive_names(given), False
            r = (
                d.get("name"),
                d.get("first_name"),
                d.get("last_name"),
                "name" in d,
                "first_name" in d,
                "last_name" in d,
                is_half,
            )
            if len(cache) < 50000:
                cache[t] = r
        out.append(r)
    return [list(map(itemgetter(i), out)) for i in range(7)]


def _stage_rows(
    lines: list[int], values: dict[str, list[Any]], layout: Layout, n: int
) -> list[StagedRow]:
    """Rows of (line, ext_id, value per built-in, [name trio set flags],
    [patch JSON], [half]); see merge.Stage for the columns."""
    none = [None] * n
    cols: dict[str, list[Any]] = dict(values)
    flags: list[list[Any]] = []
    if layout.trio:
        t = _trio(values, n, layout.empty_clears)
        cols["name"], cols["first_name"], cols["last_name"] = t[0], t[1], t[2]
        flags = t[3:]
    parts: list[list[Any]] = [lines, values.get("id", none)]
    parts += [cols.get(b, none) for b in layout.builtins]
    if layout.trio:
        parts += flags[:3]
    if layout.custom:
        clears = layout.empty_clears
        frags = [_fragments(c.attr, values[c.attr.name], clears) for c in layout.custom]
        if len(frags) == 1:
            patches = ["{" + f + "}" if f is not None else None for f in frags[0]]
        elif not any(None in f for f in frags):
            # Every row gives every custom value: join at C speed.
            patches = list(map("{{{}}}".format, map(",".join, zip(*frags, strict=True))))
        else:
            patches = []
            for t2 in zip(*frags, strict=True):
                body = ",".join(filter(None, t2))
                patches.append("{" + body + "}" if body else None)
        parts.append(patches)
    if layout.trio:
        parts.append(flags[3])
    return list(zip(*parts, strict=True))


def _fragments(attr: AttributeDef, vals: list[Any], empty_clears: bool) -> list[str | None]:
    """'"key":value' JSON text per row (None where the cell leaves it unchanged)."""
    prefix = encode_basestring(attr.name) + ":"
    null = prefix + "null" if empty_clears else None
    cache: dict[Any, str] = {}
    out: list[str | None] = []
    append = out.append
    string = attr.type is AttrType.STRING
    for v in vals:
        if v is None:
            append(null)
            continue
        # One column holds one type, except numbers (1 and 1.0 are equal keys).
        key = v if string else (type(v), v)
        f = cache.get(key)
        if f is None:
            f = prefix + _json_scalar(attr, v)
            if len(cache) < 20000:
                cache[key] = f
        append(f)
    return out


def _json_scalar(attr: AttributeDef, v: Any) -> str:
    # As pavior.people.actions.stored_value would store it, as JSON text.
    if v is None:
        return "null"
    if attr.type is AttrType.STRING:
        return str(encode_basestring(v))
    if attr.type is AttrType.DATE:
        v = to_epoch(v)
    if v is True:
        return "true"
    if v is False:
        return "false"
    return repr(v) if isinstance(v, float) else str(v)
