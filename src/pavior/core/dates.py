"""Parsing and formatting of date values.

Dates are stored as UTC instants. Parsing is deliberately strict and never
locale-dependent: a value either has one meaning or is refused with a message
that says why, so an import never stores a date the user did not mean.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The accepted range of date values: one rule for every door (API, snippet,
# Segment calls, import, pages, CLI all parse through parse_date).
# A UTC offset is always less than 24 hours (Python's datetime enforces it,
# and no time zone comes close), so keeping one day clear of each end of
# datetime's own range (0001-01-01 .. 9999-12-31) guarantees two things in
# every time zone: an accepted instant has a local date and time that exist,
# and an accepted calendar day has a local midnight at its start and at its
# end (the next day) that convert to UTC. Without the margin,
# 9999-12-31T23:59:59Z shown in Asia/Tokyo, or the day 0001-01-01 starting
# east of UTC, overflow.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)
EARLIEST = datetime.combine(FIRST_DAY, time(), tzinfo=UTC)
LATEST = datetime.combine(LAST_DAY, time.max, tzinfo=UTC)
RANGE_TEXT = f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()} (UTC)"

# Above this a Unix timestamp is taken as milliseconds: 10^11 seconds is the
# year 5138, while 10^11 ms is 1973, so real values of either kind never meet.
MS_THRESHOLD = 10**11

_ISO = re.compile(
    r"""
    (?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})
    (?:
        [Tt\ ]
        (?P<H>\d{2}):(?P<M>\d{2})
        (?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?
        \s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?
    )?
    """,
    # ASCII: "\d" alone would also take Arabic-Indic or Devanagari digits.
    re.VERBOSE | re.ASCII,
)
# Year first is never ambiguous, whatever the separator.
_YMD = re.compile(r"(?P<y>\d{4})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})", re.ASCII)
# Day/month forms: 03/04/2024 is 3 April in most of the world and March 4 in
# the US, so these need the caller to name the order.
_DMY = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})"
    r"(?:[Tt\ ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?",
    re.ASCII,
)
# Plain decimals only: "1e9" or "1_000" as a timestamp is more likely a
# mistake than a date.
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


def parse_date(value: object, *, day_first: bool | None = None) -> datetime:
    """Return ``value`` as an aware UTC datetime within the accepted range, or
    raise ValueError."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, datetime):
        return check_range(_to_utc(value))
    if isinstance(value, date):
        return check_range(datetime.combine(value, time(), tzinfo=UTC))
    if isinstance(value, int | float):
        return check_range(_from_timestamp(value))
    if isinstance(value, str):
        return check_range(_parse_text(value.strip(), day_first))
    raise ValueError(f"a {type(value).__name__} is not a date")


def check_range(dt: datetime) -> datetime:
    """``dt`` (aware) if it is within the accepted range, else ValueError."""
    if not EARLIEST <= dt <= LATEST:
        raise ValueError(f"the date is out of range; dates go from {RANGE_TEXT}")
    return dt


def check_day(day: date) -> date:
    """A calendar day within the accepted range, else ValueError."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"the day is out of range; days go from {RANGE_TEXT}")
    return day


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants where ``day`` starts and the next day starts in ``tz``.

    Both midnights come from the calendar, so a DST change keeps the day
    whole (23 or 25 hours). Total for any date: a day outside the accepted
    range is clamped to it (nothing stored lies outside it anyway), so a
    boundary never overflows.
    """
    day = min(max(day, FIRST_DAY), LAST_DAY)
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def to_local(dt: datetime, tz: tzinfo) -> datetime:
    """``dt`` in time zone ``tz``; never raises.

    A value stored before the range check existed (or by a hand-written SQL
    update) may have no local time near the ends of the calendar: it is then
    shown in UTC, which always exists, rather than breaking the page.
    """
    try:
        return _to_utc(dt).astimezone(tz)
    except (OverflowError, ValueError):
        return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _to_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range in UTC") from None


def _from_timestamp(x: int | float | Decimal) -> datetime:
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("a timestamp must be a finite number")
    in_ms = x > MS_THRESHOLD or x < -MS_THRESHOLD
    try:
        # Integers and decimal text are converted exactly; dividing by 1000
        # in floating point would turn 1714564800001 ms into ...000999 s.
        if isinstance(x, Decimal):
            micro = (x * (1000 if in_ms else 1_000_000)).to_integral_value(ROUND_HALF_EVEN)
            delta = timedelta(microseconds=int(micro))
        elif in_ms:
            delta = timedelta(milliseconds=x)
        else:
            delta = timedelta(seconds=x)
        # EPOCH + timedelta, unlike datetime.fromtimestamp, works the same on
        # every platform for negative and far-future values.
        return EPOCH + delta
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None


def _parse_text(text: str, day_first: bool | None) -> datetime:
    if not text:
        raise ValueError("an empty string is not a date")
    if _NUMERIC.fullmatch(text):
        if len(text) > 40:  # far beyond any date; also keeps int() cheap
            raise ValueError("the timestamp is out of range")
        return _from_timestamp(Decimal(text) if "." in text else int(text))
    if m := _ISO.fullmatch(text):
        return _build(m["y"], m["m"], m["d"], m["H"], m["M"], m["S"], m["f"], m["tz"], text)
    if m := _YMD.fullmatch(text):
        return _build(m["y"], m["m"], m["d"], None, None, None, None, None, text)
    if m := _DMY.fullmatch(text):
        if day_first is None:
            raise ValueError(
                f"the day/month order of {text!r} is ambiguous; name it (day first or month first)"
            )
        day, month = (m["a"], m["b"]) if day_first else (m["b"], m["a"])
        return _build(m["y"], month, day, m["H"], m["M"], m["S"], None, None, text)
    raise ValueError(
        f"{text[:60]!r} is not a recognised date; use ISO 8601 "
        "(2024-05-01 or 2024-05-01T12:00:00Z) or a Unix timestamp"
    )


def _build(
    y: str,
    mo: str,
    d: str,
    hh: str | None,
    mi: str | None,
    ss: str | None,
    frac: str | None,
    tz: str | None,
    text: str,
) -> datetime:
    # Digits beyond microseconds are dropped (truncated, not rounded) so that
    # a nanosecond timestamp never rolls over into the next second.
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        tzinfo = _offset(tz) if tz else UTC
        dt = datetime(
            int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro,
            tzinfo=tzinfo,
        )  # fmt: skip
    except ValueError as exc:
        raise ValueError(f"{text[:60]!r} is out of range: {exc}") from None
    return _to_utc(dt)


def _offset(tz: str) -> timezone:
    if tz in ("Z", "z"):
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"UTC offset {tz} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_date(dt: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, e.g. ``2024-05-01T12:00:00Z``.

    Milliseconds are shown only when non-zero; finer digits are dropped so
    that formatting, parsing and formatting again gives the same text.
    """
    try:
        u = _to_utc(dt)
    except ValueError:
        u = dt
    base = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
    ms = u.microsecond // 1000
    return f"{base}.{ms:03d}Z" if ms else f"{base}Z"


def to_epoch(dt: datetime) -> float | int:
    """Unix seconds; an int when whole."""
    delta = _to_utc(dt) - EPOCH
    # Integer arithmetic first: a float of microseconds since 1970 would lose
    # precision for far-future dates.
    whole = delta.days * 86400 + delta.seconds
    if delta.microseconds == 0:
        return whole
    return whole + delta.microseconds / 1_000_000


def from_epoch(x: float) -> datetime:
    """Aware UTC datetime for Unix seconds ``x``."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"{x!r} is not a Unix timestamp")
    if isinstance(x, float) and not math.isfinite(x):
        raise ValueError("a timestamp must be a finite number")
    try:
        return EPOCH + timedelta(seconds=x)
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None


_LOCAL_INPUT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def from_local_input(text: str, tz_name: str) -> datetime | None:
    """A browser's date/time field value ("2025-07-01T09:30", no zone) read as a wall
    time in the workspace's time zone, in UTC; None when ``text`` is not that form
    (then it is parsed as any other date text)."""
    import zoneinfo

    m = _LOCAL_INPUT.fullmatch(text.strip())
    if m is None:
        return None
    try:
        tz = zoneinfo.ZoneInfo(tz_name or "UTC")
        year, month, day, hour, minute, second = (int(g or 0) for g in m.groups())
        wall = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None
    return wall.astimezone(UTC)
