from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.dates import format_date, parse_date

NOON = datetime(2024, 5, 1, 12, tzinfo=UTC)
MIDNIGHT = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01t12:00:00z",
        "2024-05-01 12:00:00Z",
        "2024-05-01T12:00:00",  # no offset: UTC
        "2024-05-01T12:00Z",
        "2024-05-01T14:00:00+02:00",
        "2024-05-01T14:00:00+0200",
        "2024-05-01T14:00:00+02",
        "2024-05-01T07:00:00-05:00",
        "2024-05-01T12:00:00.000Z",
        "2024-05-01T12:00:00+00:00",
        "  2024-05-01T12:00:00Z  ",
        "1714564800",
        "1714564800000",
        "1714564800.0",
    ],
)
def test_accepted_forms_of_the_same_instant(text: str) -> None:
    assert parse_date(text) == NOON


def test_date_alone_is_midnight_utc() -> None:
    assert parse_date("2024-05-01") == MIDNIGHT
    assert parse_date("2024/05/01") == MIDNIGHT
    assert parse_date("2024.5.1") == MIDNIGHT
    assert parse_date(date(2024, 5, 1)) == MIDNIGHT


def test_fractional_seconds_are_kept_to_the_microsecond_and_truncated() -> None:
    assert parse_date("2024-05-01T12:00:00.5Z") == NOON.replace(microsecond=500000)
    assert parse_date("2024-05-01T12:00:00,123456789Z") == NOON.replace(microsecond=123456)


def test_datetimes_naive_means_utc_aware_is_converted() -> None:
    assert parse_date(datetime(2024, 5, 1, 12)) == NOON
    plus2 = timezone(timedelta(hours=2))
    result = parse_date(datetime(2024, 5, 1, 14, tzinfo=plus2))
    assert result == NOON and result.tzinfo is UTC


def test_unix_seconds_and_milliseconds() -> None:
    assert parse_date(1714564800) == NOON
    assert parse_date(1714564800.25) == NOON.replace(microsecond=250000)
    assert parse_date(1714564800000) == NOON
    assert parse_date(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_date(-86400) == datetime(1969, 12, 31, tzinfo=UTC)
    # 10^11 itself is seconds (year 5138); just above it is milliseconds.
    assert parse_date(10**11).year == 5138
    assert parse_date(10**11 + 1).year == 1973


def test_ambiguous_day_month_needs_the_order_named() -> None:
    for text in ("03/04/2024", "3.4.2024", "03-04-2024", "25/12/2024"):
        with pytest.raises(ValueError, match="ambiguous"):
            parse_date(text)
    assert parse_date("03/04/2024", day_first=True) == datetime(2024, 4, 3, tzinfo=UTC)
    assert parse_date("03/04/2024", day_first=False) == datetime(2024, 3, 4, tzinfo=UTC)
    assert parse_date("3.4.2024", day_first=True) == datetime(2024, 4, 3, tzinfo=UTC)
    assert parse_date("03-04-2024 10:30", day_first=False) == datetime(
        2024, 3, 4, 10, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01",
        "2024-02-30",
        "0000-01-01",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:00+25:00",
        "13/13/2024",
        "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
        1e20,
        10**40,
        "9" * 50,
    ],
)
def test_out_of_range(value: object) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_date(value, day_first=True)


@pytest.mark.parametrize(
    "value",
    [True, False, "", "   ", "yesterday", "May 1, 2024", "1 May 2024", "2024-5-1", "20240501T12",
     "١٧١٤٥٦٤٨٠٠", "٢٠٢٤-٠٥-٠١", float("nan"), float("inf"), [2024], None, "1e9"],
)  # fmt: skip
def test_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_messages_are_clear() -> None:
    with pytest.raises(ValueError, match="not a recognised date; use ISO 8601"):
        parse_date("next tuesday")
    with pytest.raises(ValueError, match="boolean"):
        parse_date(True)


aware = st.datetimes(
    min_value=datetime(2, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)


@given(aware)
def test_format_parse_format_round_trips(dt: datetime) -> None:
    text = format_date(dt)
    assert format_date(parse_date(text)) == text
    # The instant survives to the millisecond.
    assert abs(parse_date(text) - dt) < timedelta(milliseconds=1)


@given(st.integers(min_value=-(10**10), max_value=10**11))
def test_integer_seconds_are_seconds(seconds: int) -> None:
    assert parse_date(seconds) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert parse_date(str(seconds)) == parse_date(seconds)


@given(st.datetimes(min_value=datetime(1973, 3, 4), max_value=datetime(9999, 1, 1)))
def test_milliseconds_are_detected(dt: datetime) -> None:
    utc = dt.replace(tzinfo=UTC, microsecond=dt.microsecond // 1000 * 1000)
    ms = (utc - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert parse_date(ms) == utc


def test_decimal_timestamp_text_is_exact() -> None:
    assert parse_date("1714564800.123") == NOON.replace(microsecond=123000)
    assert parse_date("1714564800123.5") == NOON.replace(microsecond=123500)
    assert parse_date(1714564800001) == NOON.replace(microsecond=1000)
