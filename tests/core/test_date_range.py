"""The accepted date range: one rule in core, total local display and day bounds."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest

from pavior.core.dates import (
    EARLIEST,
    FIRST_DAY,
    LAST_DAY,
    LATEST,
    check_day,
    day_bounds,
    parse_date,
    to_local,
)

# The zones furthest from UTC either way, and one with DST.
ZONES = ["Pacific/Kiritimati", "Asia/Tokyo", "UTC", "America/New_York", "Etc/GMT+12"]


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31",
        "0001-01-01",
        "0001-01-01T23:59:59Z",
        "9999-12-30T23:00:00-02:00",  # 9999-12-31T01:00Z
        datetime(9999, 12, 31, tzinfo=UTC),
        date(1, 1, 1),
        -62135596800,  # 0001-01-01T00:00:00Z as a Unix timestamp
        253402214400000,  # 9999-12-31T00:00:00Z in milliseconds
    ],
)
def test_dates_beyond_the_range_are_refused_with_the_range(value: object) -> None:
    with pytest.raises(ValueError, match="0001-01-02 to 9999-12-30"):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9999-12-30T23:59:59.999999Z", LATEST),
        ("0001-01-02", EARLIEST),
        ("0001-01-02T00:00:00-00:00", EARLIEST),
        (-62135510400, EARLIEST),
    ],
)
def test_the_range_ends_are_accepted(value: object, expected: datetime) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("when", [EARLIEST, LATEST])
def test_every_accepted_instant_has_a_local_time_in_every_zone(zone: str, when: datetime) -> None:
    local = to_local(when, zoneinfo.ZoneInfo(zone))
    assert local == when  # the same instant, shown in the zone
    assert local.utcoffset() == zoneinfo.ZoneInfo(zone).utcoffset(local.replace(tzinfo=None))


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("day", [FIRST_DAY, LAST_DAY, date(1, 1, 1), date(9999, 12, 31)])
def test_day_bounds_never_overflow(zone: str, day: date) -> None:
    start, end = day_bounds(day, zoneinfo.ZoneInfo(zone))
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert timedelta(hours=23) <= end - start <= timedelta(hours=25)


@pytest.mark.parametrize("zone", ZONES)
def test_a_day_in_range_starts_at_its_local_midnight(zone: str) -> None:
    tz = zoneinfo.ZoneInfo(zone)
    for day in (FIRST_DAY, LAST_DAY, date(2024, 3, 10)):
        start, end = day_bounds(day, tz)
        assert start.astimezone(tz).date() == day
        assert (start.astimezone(tz).hour, end.astimezone(tz).hour) == (0, 0)


def test_a_stored_value_beyond_the_range_is_shown_in_utc_not_raised() -> None:
    stored = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert to_local(stored, zoneinfo.ZoneInfo("Asia/Tokyo")) == stored
    early = datetime(1, 1, 1, tzinfo=UTC)
    assert to_local(early, zoneinfo.ZoneInfo("America/New_York")) == early


def test_check_day() -> None:
    assert check_day(LAST_DAY) == LAST_DAY
    with pytest.raises(ValueError, match="out of range"):
        check_day(date(9999, 12, 31))
