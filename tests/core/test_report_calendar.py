"""The calendar and bin rules of reports, without a database."""

from __future__ import annotations

import zoneinfo
from datetime import date

import pytest

from pavior.core.errors import InvalidValue, LimitExceeded
from pavior.core.reports import (
    LAST_DAY,
    MAX_BUCKETS,
    bin_edges,
    bin_index,
    bucket_count,
    bucket_start,
    buckets,
    parse_report,
    step,
)

from .conftest import SCHEMA

UTC = zoneinfo.ZoneInfo("UTC")
TODAY = date(2024, 5, 15)


def spec(**body: object):
    return parse_report({"attribute": "renewal_on", **body}, SCHEMA.get, tz=UTC, today=TODAY)


def test_iso_weeks_start_on_monday_across_a_year_end() -> None:
    assert bucket_start(date(2021, 1, 3), "week") == date(2020, 12, 28)  # Sunday of ISO week 53
    assert bucket_start(date(2024, 12, 30), "week") == date(2024, 12, 30)


def test_months_step_over_year_ends_both_ways() -> None:
    assert step(date(2024, 11, 1), "month", 3) == date(2025, 2, 1)
    assert step(date(2024, 1, 1), "month", -1) == date(2023, 12, 1)
    assert buckets(date(2023, 11, 1), date(2024, 2, 1), "month") == [
        date(2023, 11, 1),
        date(2023, 12, 1),
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]
    assert bucket_count(date(2024, 1, 1), date(2024, 1, 1), "week") == 1


def test_default_ranges_end_with_the_current_bucket() -> None:
    s = spec(kind="timeseries", interval="week")
    assert s.last == date(2024, 5, 13) and bucket_count(s.first, s.last, "week") == 26
    s = spec(kind="timeseries", interval="month")
    assert (s.first, s.last) == (date(2023, 6, 1), date(2024, 5, 1))


def test_the_bucket_limit_and_the_calendar_edges() -> None:
    last_ok = date(2024, 1, 1)
    first_ok = date.fromordinal(last_ok.toordinal() - MAX_BUCKETS + 1)
    assert spec(kind="timeseries", **{"from": first_ok.isoformat(), "to": "2024-01-01"})
    with pytest.raises(LimitExceeded):
        spec(
            kind="timeseries",
            **{"from": date.fromordinal(first_ok.toordinal() - 1).isoformat(), "to": "2024-01-01"},
        )
    s = spec(
        kind="timeseries", interval="month", **{"from": "9999-01-01", "to": LAST_DAY.isoformat()}
    )
    assert step(s.last, "month", 1) == date(9999, 12, 1)  # the end of the last bucket still exists
    with pytest.raises(InvalidValue):
        spec(kind="timeseries", **{"to": "9999-12-01"})


def test_bins_are_equal_and_the_last_includes_its_top_edge() -> None:
    low, width, bins = bin_edges(0.0, 10.0, 4)
    assert (low, width, bins) == (0.0, 2.5, 4)
    assert [bin_index(v, 0.0, 10.0, width, bins) for v in (0, 2.49, 2.5, 9.99, 10)] == [
        0,
        0,
        1,
        3,
        3,
    ]
    assert bin_edges(5.0, 5.0, 10) == (5.0, 0.0, 1)
