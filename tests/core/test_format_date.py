from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pavior.core.dates import format_date, from_epoch, to_epoch


def test_format_is_rfc3339_utc_with_z() -> None:
    assert format_date(datetime(2024, 5, 1, 12, tzinfo=UTC)) == "2024-05-01T12:00:00Z"
    plus2 = timezone(timedelta(hours=2))
    assert format_date(datetime(2024, 5, 1, 14, tzinfo=plus2)) == "2024-05-01T12:00:00Z"
    assert format_date(datetime(2024, 5, 1, 12)) == "2024-05-01T12:00:00Z"  # naive is UTC


def test_milliseconds_only_when_present() -> None:
    base = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert format_date(base.replace(microsecond=123456)) == "2024-05-01T12:00:00.123Z"
    assert format_date(base.replace(microsecond=5000)) == "2024-05-01T12:00:00.005Z"
    # Below a millisecond there is nothing to show; ".000Z" would not survive
    # a second round of parse + format.
    assert format_date(base.replace(microsecond=999)) == "2024-05-01T12:00:00Z"


def test_years_are_four_digits() -> None:
    assert format_date(datetime(5, 1, 2, tzinfo=UTC)) == "0005-01-02T00:00:00Z"


def test_epoch_conversions() -> None:
    noon = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert to_epoch(noon) == 1714564800 and isinstance(to_epoch(noon), int)
    assert to_epoch(noon.replace(microsecond=500000)) == 1714564800.5
    assert from_epoch(1714564800) == noon
    assert from_epoch(1714564800.5) == noon.replace(microsecond=500000)
    assert to_epoch(datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)) == -1


@given(st.datetimes(timezones=st.just(UTC)))
def test_epoch_round_trips_whole_seconds(dt: datetime) -> None:
    whole = dt.replace(microsecond=0)
    assert from_epoch(to_epoch(whole)) == whole
