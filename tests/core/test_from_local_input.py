"""A date/time field's value is wall time in the workspace's zone."""

from datetime import UTC, datetime

from pavior.core.dates import from_local_input


def test_wall_time_in_the_zone_across_daylight_saving() -> None:
    assert from_local_input("2025-07-01T09:30", "Europe/Madrid") == datetime(
        2025, 7, 1, 7, 30, tzinfo=UTC
    )
    assert from_local_input("2025-01-15T09:30:15", "Europe/Madrid") == datetime(
        2025, 1, 15, 8, 30, 15, tzinfo=UTC
    )
    assert from_local_input(" 2025-01-15T09:30 ", "UTC") == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def test_other_forms_are_left_to_the_date_parser() -> None:
    assert from_local_input("2025-01-15", "UTC") is None
    assert from_local_input("2025-01-15T09:30Z", "UTC") is None
    assert from_local_input("2025-02-30T09:30", "UTC") is None
    assert from_local_input("2025-01-15T09:30", "No/Such_Zone") is None
