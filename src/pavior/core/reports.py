"""Report requests (SPEC §11): what is asked, checked; and the calendar and bin math.

No database here: `pavior.segments.reports` runs the queries, and the tests
compute the same reports in plain Python with these same rules.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from .attributes import AttributeDef, AttrType
from .dates import parse_date
from .errors import InvalidFilter, InvalidValue, LimitExceeded, show_value
from .filters import Lookup, resolve_attribute

Kind = Literal["breakdown", "histogram", "timeseries"]
Interval = Literal["day", "week", "month"]

KINDS: dict[str, frozenset[AttrType]] = {
    "breakdown": frozenset({AttrType.STRING, AttrType.BOOLEAN, AttrType.NUMBER}),
    "histogram": frozenset({AttrType.NUMBER}),
    "timeseries": frozenset({AttrType.DATE}),
}
DEFAULT_LIMIT, MAX_LIMIT = 25, 1000
DEFAULT_BINS, MAX_BINS = 10, 100
MAX_BUCKETS = 10_000
# Default ranges end with the current bucket: 30 days, 26 weeks, 12 months.
DEFAULT_SPAN = {"day": 30, "week": 26, "month": 12}
# The calendar's ends, kept clear so a bucket's end (and a time zone's offset
# from UTC) never steps outside what `datetime` can hold.
FIRST_DAY = date(1, 1, 8)
LAST_DAY = date(9999, 11, 30)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ReportSpec:
    kind: Kind
    attribute: AttributeDef
    limit: int = DEFAULT_LIMIT  # breakdown
    bins: int = DEFAULT_BINS  # histogram
    min: float | None = None
    max: float | None = None
    interval: Interval = "day"  # timeseries: local calendar days, the first and last bucket
    first: date | None = None
    last: date | None = None


_KEYS = {
    "breakdown": {"kind", "attribute", "filter", "limit"},
    "histogram": {"kind", "attribute", "filter", "bins", "min", "max"},
    "timeseries": {"kind", "attribute", "filter", "interval", "from", "to"},
}


def parse_report(data: object, lookup: Lookup, *, tz: zoneinfo.ZoneInfo, today: date) -> ReportSpec:
    """Check a report request (the filter is parsed apart); every refusal names its field."""
    if not isinstance(data, dict):
        raise InvalidValue("A report request is a JSON object with a kind and an attribute")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidValue(
            f"kind is one of breakdown, histogram, timeseries; got {show_value(kind)}",
            field="kind",
        )
    extra = sorted(str(k) for k in data if k not in _KEYS[kind])
    if extra:
        raise InvalidValue(
            f"Unexpected key {show_value(extra[0])} in a {kind} report", field=extra[0]
        )
    if "attribute" not in data:
        raise InvalidValue("A report needs an attribute", field="attribute")
    attr = resolve_attribute(data["attribute"], lookup, field="attribute")
    if attr.type not in KINDS[kind]:
        fits = ", ".join(sorted(t.value for t in KINDS[kind]))
        raise InvalidFilter(
            f"A {kind} report needs a {fits} attribute; {attr.name} is a {attr.type.value}",
            field="attribute",
            code="kind_does_not_fit",
        )
    if kind == "breakdown":
        limit = _whole(data, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        return ReportSpec("breakdown", attr, limit=limit)
    if kind == "histogram":
        bins = _whole(data, "bins", DEFAULT_BINS, 1, MAX_BINS)
        low, high = _number(data, "min"), _number(data, "max")
        if low is not None and high is not None and low > high:
            raise InvalidValue(f"min ({low:g}) is above max ({high:g})", field="min")
        return ReportSpec("histogram", attr, bins=bins, min=low, max=high)
    raw = data.get("interval", "day")
    if not isinstance(raw, str) or raw not in DEFAULT_SPAN:
        raise InvalidValue(
            f"interval is day, week or month; got {show_value(raw)}", field="interval"
        )
    interval: Interval = "day" if raw == "day" else "week" if raw == "week" else "month"
    first, last = _range(data, interval, tz, today)
    return ReportSpec("timeseries", attr, interval=interval, first=first, last=last)


def _whole(data: dict[object, object], key: str, default: int, low: int, high: int) -> int:
    raw = data.get(key, default)
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise LimitExceeded(
            f"{key} is a whole number from {low} to {high}; got {show_value(raw)}", field=key
        )
    return raw


def _number(data: dict[object, object], key: str) -> float | None:
    raw = data.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not _finite(raw):
        raise InvalidValue(f"{key} is a number; got {show_value(raw)}", field=key)
    return float(raw)


def _finite(x: int | float) -> bool:
    try:
        return math.isfinite(float(x)) and abs(float(x)) < 1e300
    except OverflowError:  # an int too large for a float
        return False


def _day(raw: object, field: str, tz: zoneinfo.ZoneInfo) -> date:
    """A local calendar day: YYYY-MM-DD as written, or any accepted date value's day in tz."""
    try:
        if isinstance(raw, str) and _DAY.fullmatch(raw.strip()):
            day = date.fromisoformat(raw.strip())
        else:
            day = parse_date(raw).astimezone(tz).date()
    except (ValueError, OverflowError) as exc:
        raise InvalidValue(
            f"{field} is a date such as 2024-05-01; {show_value(raw)} is not one ({exc})",
            field=field,
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidValue(
            f"{field} must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}; "
            f"got {day.isoformat()}",
            field=field,
        )
    return day


def _range(
    data: dict[object, object], interval: Interval, tz: zoneinfo.ZoneInfo, today: date
) -> tuple[date, date]:
    last = _day(data["to"], "to", tz) if data.get("to") is not None else today
    last = bucket_start(last, interval)
    if data.get("from") is not None:
        first = bucket_start(_day(data["from"], "from", tz), interval)
    else:
        first = step(last, interval, 1 - DEFAULT_SPAN[interval])
    if first > last:
        raise InvalidValue(
            f"from ({first.isoformat()}) is after to ({last.isoformat()})", field="from"
        )
    if bucket_count(first, last, interval) > MAX_BUCKETS:
        raise LimitExceeded(
            f"A time series has at most {MAX_BUCKETS:,} buckets; from {first.isoformat()} "
            f"to {last.isoformat()} by {interval} is {bucket_count(first, last, interval):,}",
            field="from",
        )
    return first, last


# --- calendar buckets ------------------------------------------------------------------


def bucket_start(day: date, interval: Interval) -> date:
    """The first day of the bucket holding ``day``: the day, its ISO week's Monday,
    or its month's first."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def step(start: date, interval: Interval, n: int) -> date:
    """The bucket ``n`` buckets after (or before) the one starting at ``start``."""
    if interval == "day":
        return start + timedelta(days=n)
    if interval == "week":
        return start + timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n
    return date(months // 12, months % 12 + 1, 1)


def bucket_count(first: date, last: date, interval: Interval) -> int:
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    days = (last - first).days
    return (days // 7 if interval == "week" else days) + 1


def buckets(first: date, last: date, interval: Interval) -> list[date]:
    return [step(first, interval, i) for i in range(bucket_count(first, last, interval))]


def local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant a local calendar day starts (DST-correct: through the calendar)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def bucket_of(instant: datetime, interval: Interval, tz: zoneinfo.ZoneInfo) -> date:
    """The bucket (its first day) an instant falls in, in the workspace time zone."""
    return bucket_start(instant.astimezone(tz).date(), interval)


# --- histogram bins --------------------------------------------------------------------


def bin_edges(low: float, high: float, bins: int) -> tuple[float, float, int]:
    """(low, width, bins): equal-width bins; a single value makes one bin [v, v]."""
    if high == low:
        return low, 0.0, 1
    return low, (high - low) / bins, bins


def bin_index(value: float, low: float, high: float, width: float, bins: int) -> int:
    """Which bin ``value`` (within [low, high]) falls in; the last bin includes ``high``.

    The database computes the same expression, floor((value - low) / width),
    so both agree to the last bit.
    """
    if width == 0 or value >= high:
        return bins - 1
    return min(int(math.floor((value - low) / width)), bins - 1)
