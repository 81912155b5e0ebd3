"""Reports (SPEC §11): breakdowns, histograms and time series over a filter.

Every report starts from `filtered_people`, the one filter compiler, so a
report's scope is exactly the users a count or the users list shows for the
same filter (segments included). The grouping is done by the database; only
a bounded number of groups comes back to Python.

Time series bucket by calendar in the workspace time zone:
- PostgreSQL truncates `col AT TIME ZONE tz` (Django's Trunc* with tzinfo);
- SQLite has no time zones: it groups by UTC hour (or by a finer step when a
  bucket boundary is not on the hour, as in Asia/Kathmandu) and Python folds
  those groups into local buckets with zoneinfo, so a DST change lands where
  it should.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Collate, Floor, Substr, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from pavior.core.attributes import AttributeDef, AttrType
from pavior.core.csv_rules import neutralise
from pavior.core.dates import from_epoch, to_epoch
from pavior.core.filters import Node
from pavior.core.reports import (
    ReportSpec,
    bin_edges,
    buckets,
    local_midnight,
    parse_report,
    step,
)
from pavior.people.models import IndexedValue, Person
from pavior.people.queries import attribute_lookup
from pavior.segments.queries import Compiler, filtered_people
from pavior.segments.saved import parse_workspace_filter
from pavior.workspaces.models import Workspace


@dataclass
class Report:
    kind: str
    attribute: AttributeDef
    total: int
    unset: int
    other: int
    rows: list[dict[str, Any]]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "attribute": self.attribute.name,
            "total": self.total,
            "unset": self.unset,
            "other": self.other,
            "rows": self.rows,
            **self.extra,
        }


def workspace_tz(workspace: Workspace) -> zoneinfo.ZoneInfo:
    """The workspace's zone by the filter compiler's rule (the one `on` days use)."""
    return Compiler(workspace=workspace, annotations={}).tz()


def run_report(workspace: Workspace, spec: ReportSpec, node: Node | None) -> Report:
    qs, compiler = filtered_people(workspace, node, sort_attribute=spec.attribute)
    indexed = compiler.indexed_id(spec.attribute)
    if indexed is not None and (
        node is None or compiler.typed_in_people() or compiler.indexed_ids(node) is not None
    ):
        return _indexed_report(workspace, spec, node, qs, compiler, indexed)
    ref = compiler.value_ref(spec.attribute)
    value = _value(compiler, ref)
    if spec.kind == "timeseries":  # counts the users with a value as it groups them
        return _timeseries(workspace, spec, qs, compiler, ref, qs.count())
    if spec.kind == "breakdown":  # counts everything in its one grouping statement
        return _breakdown(spec, qs, compiler, ref)
    # A histogram: one pass for the scope's size, how many have a value
    # (COUNT(expr) skips NULL) and the data's range (each pass over custom values
    # reads every user's JSON), then one for the bins.
    sizes = qs.aggregate(total=Count("*"), valued=Count(value), lo=Min(value), hi=Max(value))
    return _histogram(
        spec, qs, compiler, ref, sizes["total"], sizes["valued"], sizes["lo"], sizes["hi"]
    )


def _indexed_report(
    workspace: Workspace,
    spec: ReportSpec,
    node: Node | None,
    qs: QuerySet[Person],
    compiler: Compiler,
    attribute_id: int,
) -> Report:
    """A report over an indexed custom attribute: grouped from its typed copy
    (people.IndexedValue, covering indexes), so no user's JSON is read.

    The scope's size is a count of people; the values are the copy's rows of
    the users in scope (all of them when there is no filter: every row of the
    attribute belongs to the workspace). Users in scope without a row are unset.
    """
    column = "value_text" if spec.attribute.type == AttrType.STRING else "value_number"
    values: QuerySet[Any] = IndexedValue.objects.filter(
        attribute_id=attribute_id, **{f"{column}__isnull": False}
    )
    # A scope of indexed attributes only is a set of ids read from IndexedValue
    # too; any other is the people the filter compiler selects.
    ids = compiler.indexed_ids(node) if node is not None else None
    if ids is not None:
        values, total = values.filter(person_id__in=ids), ids.count()
    elif node is not None:
        values, total = values.filter(person_id__in=qs.values("pk")), qs.count()
    else:
        total = qs.count()
    if spec.kind == "timeseries":
        return _timeseries(workspace, spec, values, compiler, column, total)
    if spec.kind == "breakdown":
        return _breakdown(spec, values, compiler, column, scope_total=total)
    # MIN and MAX alone: read from the index's two ends when there is no scope.
    ends = values.aggregate(lo=Min(column), hi=Max(column))
    return _histogram(spec, values, compiler, column, total, None, ends["lo"], ends["hi"])


def _value(compiler: Compiler, ref: str) -> Any:
    """The attribute's value as an expression: a column, or the custom value's SQL
    (an alias cannot be aggregated or grouped on; its expression can)."""
    return compiler.annotations.get(ref, F(ref))


def _number_out(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


class _AllGroups(Func):
    """`SUM(COUNT(*)) OVER ()`: the users of every group, before the LIMIT."""

    template = "SUM(COUNT(*)) OVER ()"
    contains_aggregate = True
    contains_over_clause = True
    output_field = IntegerField()

    def get_group_by_cols(self) -> list[Any]:
        return []


class _NullGroup(Func):
    """The users of the NULL group (no value), however far down the order it is."""

    template = "SUM(CASE WHEN %(expressions)s IS NULL THEN COUNT(*) ELSE 0 END) OVER ()"
    contains_aggregate = True
    contains_over_clause = True
    output_field = IntegerField()

    def get_group_by_cols(self) -> list[Any]:
        return []


def _breakdown(
    spec: ReportSpec,
    qs: QuerySet[Any],
    compiler: Compiler,
    ref: str,
    *,
    scope_total: int | None = None,
) -> Report:
    """One statement: the top groups, and (window sums over all groups, taken
    before the LIMIT) the scope's total and its users without a value.

    Over an indexed attribute's rows (`scope_total` given) there is no NULL
    group: the window sum is the users with a value, the rest are unset."""
    # Ties by value in code-point order on both databases (PostgreSQL's
    # default collation would sort "b" before "B" depending on the locale).
    # Grouping on the collated value keeps one group key (ordering by a second,
    # collated expression would add it to the GROUP BY).
    grouped: Any = _value(compiler, ref)
    if spec.attribute.type == AttrType.STRING and connection.vendor == "postgresql":
        grouped = Collate(grouped, "C")
    groups = list(
        qs.values(_v=grouped)
        .annotate(n=Count("*"), all_n=_AllGroups(), null_n=_NullGroup(grouped))
        # One more than asked: the NULL group may be among them, and is dropped.
        .order_by("-n", "_v")[: spec.limit + 1]
    )
    total = groups[0]["all_n"] if groups else 0
    unset = groups[0]["null_n"] if groups else 0
    if scope_total is not None:
        total, unset = scope_total, scope_total - total
    rows = []
    for g in groups:
        value = g["_v"]
        if value is None:
            continue
        if spec.attribute.type == AttrType.NUMBER:
            value = _number_out(value)
        elif spec.attribute.type == AttrType.BOOLEAN:
            value = bool(value)
        rows.append({"value": value, "count": g["n"]})
    rows = rows[: spec.limit]
    other = total - unset - sum(r["count"] for r in rows)
    return Report("breakdown", spec.attribute, total, unset, other, rows)


def _histogram(
    spec: ReportSpec,
    qs: QuerySet[Any],
    compiler: Compiler,
    ref: str,
    total: int,
    valued: int | None,
    seen_lo: Any,
    seen_hi: Any,
) -> Report:
    """`valued` None: not counted yet (an indexed attribute, whose min and max
    came from its index's ends); the one grouping pass counts it too."""
    low, high = spec.min, spec.max
    value = _value(compiler, ref)
    if valued or (valued is None and seen_lo is not None):
        low = float(seen_lo) if low is None else low
        high = float(seen_hi) if high is None else high
    extra: dict[str, Any] = {"bins": spec.bins}
    if low is None or high is None:  # no values and no range: no bins to draw
        return Report("histogram", spec.attribute, total, total - (valued or 0), 0, [], extra)
    if low > high:  # a given min above every value, or a given max below them all
        if spec.min is not None:
            high = low
        else:
            low = high
    start, width, bins = bin_edges(low, high, spec.bins)
    counts = [0] * bins
    between = Q(**{f"{ref}__gte": low, f"{ref}__lte": high})
    index: Any = Value(0.0)
    if width != 0:
        index = Floor(
            ExpressionWrapper(
                (Cast(value, FloatField()) - Value(start)) / Value(width),
                output_field=FloatField(),
            )
        )
    one_pass = valued is None
    if one_pass:
        # One pass over every value: those outside [low, high] form the NULL group.
        grouped = qs.annotate(_bin=_in_range(between, index, FloatField()))
        valued = 0
    else:
        grouped = qs.filter(between).annotate(_bin=index)
    for g in grouped.values("_bin").annotate(n=Count("*")):
        if g["_bin"] is None:
            valued += g["n"]
            continue
        # The top edge belongs to the last bin (and rounding may put a value
        # a hair below it one past the end): clamp, as core.reports.bin_index does.
        counts[min(int(g["_bin"]), bins - 1)] += g["n"]
    assert valued is not None
    if one_pass:
        valued += sum(counts)
    rows = [
        {
            "from": _number_out(start + i * width),
            "to": _number_out(high if i == bins - 1 else start + (i + 1) * width),
            "count": counts[i],
        }
        for i in range(bins)
    ]
    extra.update(min=_number_out(low), max=_number_out(high), bins=bins)
    other = valued - sum(counts)
    return Report("histogram", spec.attribute, total, total - valued, other, rows, extra)


# --- time series -------------------------------------------------------------------------


def _timeseries(
    workspace: Workspace,
    spec: ReportSpec,
    qs: QuerySet[Any],
    compiler: Compiler,
    ref: str,
    total: int,
) -> Report:
    tz = workspace_tz(workspace)
    assert spec.first is not None and spec.last is not None
    keys = buckets(spec.first, spec.last, spec.interval)
    start = local_midnight(spec.first, tz)
    end = local_midnight(step(spec.last, spec.interval, 1), tz)
    attr = spec.attribute
    lo: Any = start if attr.builtin else to_epoch(start)
    hi: Any = end if attr.builtin else to_epoch(end)
    # One pass over the users with a value: those in the range get their group,
    # the others one NULL group, which is `other` (reading the value twice
    # would cost a second pass over every user's JSON).
    inside = Q(**{f"{ref}__gte": lo, f"{ref}__lt": hi})
    valued_qs = qs.filter(**{f"{ref}__isnull": False})
    if connection.vendor == "postgresql":
        if attr.builtin:
            counts = _pg_buckets(valued_qs, inside, attr, _value(compiler, ref), spec, tz)
        else:
            counts = _epoch_buckets(valued_qs, _value(compiler, ref), spec, tz, keys)
    else:
        counts = _sqlite_buckets(valued_qs, inside, attr, _value(compiler, ref), spec, tz, keys)
    outside = counts.pop(None, 0)
    rows: list[dict[str, Any]] = [
        {"bucket": k.isoformat(), "count": counts.get(k, 0)} for k in keys
    ]
    in_range = sum(counts.get(k, 0) for k in keys)
    valued = in_range + outside
    extra = {
        "interval": spec.interval,
        "from": spec.first.isoformat(),
        "to": spec.last.isoformat(),
        "timezone": str(tz.key),
    }
    return Report("timeseries", attr, total, total - valued, valued - in_range, rows, extra)


_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _in_range(inside: Q, group: Any, output: Any) -> Case:
    """The group of a value in the range; NULL (the `other` group) for one outside."""
    return Case(When(inside, then=group), default=Value(None), output_field=output)


class _WidthBucket(Func):
    """PostgreSQL's `width_bucket(value, edges)`: 0 below the first edge, i for
    edges[i-1] <= value < edges[i], len(edges) from the last edge on."""

    function = "width_bucket"
    output_field = IntegerField()


def _epoch_buckets(
    qs: QuerySet[Any],
    value: Any,
    spec: ReportSpec,
    tz: zoneinfo.ZoneInfo,
    keys: list[date],
) -> dict[date | None, int]:
    """PostgreSQL, custom dates (epoch seconds): each value's bucket found by a
    binary search over the buckets' edges (local midnights from zoneinfo, so
    DST-correct), rather than a time-zone conversion and truncation per row."""
    edges = [
        float(to_epoch(local_midnight(k, tz))) for k in [*keys, step(keys[-1], spec.interval, 1)]
    ]
    bucket = _WidthBucket(Cast(value, FloatField()), Value(edges))
    counts: dict[date | None, int] = {}
    for g in qs.annotate(_bucket=bucket).values("_bucket").annotate(n=Count("*")):
        i = g["_bucket"]
        key = keys[i - 1] if 1 <= i <= len(keys) else None  # None: outside the range
        counts[key] = counts.get(key, 0) + g["n"]
    return counts


def _pg_buckets(
    qs: QuerySet[Any],
    inside: Q,
    attr: AttributeDef,
    value: Any,
    spec: ReportSpec,
    tz: zoneinfo.ZoneInfo,
) -> dict[date | None, int]:
    instant: Any = value
    if not attr.builtin:  # custom dates are epoch seconds
        instant = Func(value, function="to_timestamp", output_field=DateTimeField())
    # Django writes this as DATE_TRUNC('month', col AT TIME ZONE 'Europe/Paris').
    trunc = _TRUNC[spec.interval](instant, tzinfo=tz, output_field=DateTimeField())
    counts: dict[date | None, int] = {}
    bucket = _in_range(inside, trunc, DateTimeField())
    for g in qs.annotate(_bucket=bucket).values("_bucket").annotate(n=Count("*")):
        start = g["_bucket"]
        # DATE_TRUNC(... AT TIME ZONE tz) is the local wall-clock start of the
        # bucket; through CASE it comes back naive (Trunc's own conversion
        # would have made it aware in tz). Either way its date is the bucket.
        if start is None:
            key = None
        else:
            key = start.date() if start.tzinfo is None else start.astimezone(tz).date()
        counts[key] = counts.get(key, 0) + g["n"]
    return counts


def _grain(boundaries: list[datetime]) -> int:
    """The coarsest step in seconds (hour, quarter, minute, second) that every
    bucket boundary falls on, so grouping by it never splits a group across two buckets."""
    for seconds in (3600, 900, 60):
        if all(int(b.timestamp()) % seconds == 0 for b in boundaries):
            return seconds
    return 1


# SQLite stores a datetime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC: its leading
# characters are the time cut to the hour, minute or second, exactly.
_TEXT_CUT = {3600: 13, 60: 16, 1: 19}


def _sqlite_buckets(
    qs: QuerySet[Any],
    inside: Q,
    attr: AttributeDef,
    value: Any,
    spec: ReportSpec,
    tz: zoneinfo.ZoneInfo,
    keys: list[date],
) -> dict[date | None, int]:
    boundaries = [local_midnight(k, tz) for k in keys]
    grain = _grain([*boundaries, local_midnight(step(keys[-1], spec.interval, 1), tz)])
    group: Any
    output: Any = FloatField()
    if attr.builtin and grain in _TEXT_CUT:
        group = Substr(value, 1, _TEXT_CUT[grain])
        output = TextField()
    elif attr.builtin:  # quarter hours: whole seconds since the epoch, from the text
        seconds = Cast(
            Func(Value("%s"), value, function="strftime", output_field=IntegerField()),
            IntegerField(),
        )
        group = Floor(ExpressionWrapper(seconds / Value(grain), output_field=FloatField()))
    else:
        group = Floor(
            ExpressionWrapper(Cast(value, FloatField()) / Value(grain), output_field=FloatField())
        )
    counts: dict[date | None, int] = {}
    grouped = qs.annotate(_group=_in_range(inside, group, output))
    for g in grouped.values("_group").annotate(n=Count("*")):
        raw = g["_group"]
        if raw is None:  # outside the range
            counts[None] = counts.get(None, 0) + g["n"]
            continue
        if isinstance(raw, str):
            text = raw if len(raw) > 13 else raw + ":00"  # "YYYY-MM-DD HH" has no minutes
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            moment = from_epoch(int(raw) * grain)
        # The group's first instant decides its bucket: no boundary falls inside it.
        i = bisect_right(boundaries, moment) - 1
        if 0 <= i < len(keys):
            counts[keys[i]] = counts.get(keys[i], 0) + g["n"]
    return counts


def report_for(workspace: Workspace, data: object) -> Report:
    """The report a request asks for: checked, scoped by its filter, run.

    The one entry point of the REST API and the report page, so both show
    the same numbers for the same request.
    """
    lookup = attribute_lookup(workspace)
    tz = workspace_tz(workspace)
    spec = parse_report(data, lookup, tz=tz, today=timezone.now().astimezone(tz).date())
    assert isinstance(data, dict)  # parse_report refused anything else
    node = parse_workspace_filter(workspace, data.get("filter"), lookup=lookup)
    return run_report(workspace, spec, node)


ROW_NAMES = {"breakdown": "value", "histogram": "bin", "timeseries": "bucket"}
CSV_HEADERS = {
    "breakdown": ["row", "value", "count"],
    "histogram": ["row", "from", "to", "count"],
    "timeseries": ["row", "bucket", "count"],
}


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    return value


def report_csv(report: Report) -> str:
    """The report's rows as CSV, then its other, unset and total lines.

    The first column says what a line is, so a value that happens to read
    "other" is never mistaken for the summary line.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    headers = CSV_HEADERS[report.kind]
    writer.writerow(headers)
    pad = [""] * (len(headers) - 2)
    for row in report.rows:
        writer.writerow([ROW_NAMES[report.kind], *(_cell(row[h]) for h in headers[1:])])
    for name in ("other", "unset", "total"):
        writer.writerow([name, *pad, getattr(report, name)])
    return out.getvalue()
