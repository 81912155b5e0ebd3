"""Time series buckets are local calendar days, ISO weeks and months: DST and odd offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pavior.core.attributes import Trust

pytestmark = pytest.mark.django_db


def series(tz: str, instants: list[datetime], **request: Any) -> dict[str, int]:
    from pavior.people.actions import create_attribute, upsert_user
    from pavior.segments.reports import report_for
    from pavior.workspaces.actions import create_workspace, update_workspace_settings

    ws = create_workspace("Buckets").workspace
    ws = update_workspace_settings(ws, {"timezone": tz})
    create_attribute(ws, "trial_at", "date")
    for i, when in enumerate(instants):
        stamp = when.isoformat()
        upsert_user(
            ws, {"id": f"u{i}", "trial_at": stamp, "signed_up_at": stamp}, trust=Trust.SECRET
        )
    out = {}
    for attribute in ("trial_at", "signed_up_at"):  # a custom date and a built-in column
        body = report_for(ws, {"kind": "timeseries", "attribute": attribute, **request}).as_json()
        out[attribute] = {r["bucket"]: r["count"] for r in body["rows"] if r["count"]}
    assert out["trial_at"] == out["signed_up_at"]
    # The same from the typed side table (people.IndexedValue) once trial_at is indexed.
    from pavior.people.indexed import backfill, mark_indexed

    backfill(mark_indexed(ws.pk, "trial_at"))  # type: ignore[arg-type]
    body = report_for(ws, {"kind": "timeseries", "attribute": "trial_at", **request}).as_json()
    assert {r["bucket"]: r["count"] for r in body["rows"] if r["count"]} == out["trial_at"]
    return out["trial_at"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_kathmandu_days_start_at_18_15_utc() -> None:
    # +05:45: a bucket boundary that is not on the hour.
    got = series(
        "Asia/Kathmandu",
        [utc(2024, 5, 1, 18, 14, 59), utc(2024, 5, 1, 18, 15), utc(2024, 5, 1, 18, 59)],
        interval="day",
        **{"from": "2024-05-01", "to": "2024-05-02"},
    )
    assert got == {"2024-05-01": 1, "2024-05-02": 2}


def test_the_spring_forward_day_has_23_hours_in_paris() -> None:
    # 2024-03-31: 02:00 CET -> 03:00 CEST. Local midnight of April 1st is 22:00 UTC.
    got = series(
        "Europe/Paris",
        [utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 21, 59), utc(2024, 3, 31, 22, 0)],
        interval="day",
        **{"from": "2024-03-31", "to": "2024-04-01"},
    )
    assert got == {"2024-03-31": 2, "2024-04-01": 1}


def test_the_fall_back_day_has_25_hours_in_new_york() -> None:
    # 2024-11-03: 02:00 EDT -> 01:00 EST; the day runs 04:00 UTC to 05:00 UTC next day.
    got = series(
        "America/New_York",
        [utc(2024, 11, 3, 4, 0), utc(2024, 11, 4, 4, 59), utc(2024, 11, 4, 5, 0)],
        interval="day",
        **{"from": "2024-11-03", "to": "2024-11-04"},
    )
    assert got == {"2024-11-03": 2, "2024-11-04": 1}


def test_iso_weeks_start_on_local_monday() -> None:
    # Sunday 2024-03-10 23:30 in Paris is still ISO week 10 (from Monday 03-04);
    # 23:30 UTC that Sunday is already Monday 00:30 in Paris: week 11.
    got = series(
        "Europe/Paris",
        [utc(2024, 3, 10, 22, 30), utc(2024, 3, 10, 23, 30)],
        interval="week",
        **{"from": "2024-03-04", "to": "2024-03-17"},
    )
    assert got == {"2024-03-04": 1, "2024-03-11": 1}


def test_months_in_a_half_hour_dst_zone() -> None:
    # Lord Howe moves by 30 minutes: +11:00 in summer, +10:30 in winter.
    got = series(
        "Australia/Lord_Howe",
        [utc(2024, 5, 31, 13, 29), utc(2024, 5, 31, 13, 30), utc(2024, 12, 31, 12, 59)],
        interval="month",
        **{"from": "2024-05-01", "to": "2025-01-01"},
    )
    assert got == {"2024-05-01": 1, "2024-06-01": 1, "2024-12-01": 1}


def test_every_bucket_is_listed_with_zeros() -> None:
    from pavior.segments.reports import report_for
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace("Empty").workspace
    body = report_for(
        ws,
        {
            "kind": "timeseries",
            "attribute": "signed_up_at",
            "interval": "month",
            "from": "2023-11-15",
            "to": "2024-02-01",
        },
    ).as_json()
    assert [r["bucket"] for r in body["rows"]] == [
        "2023-11-01",
        "2023-12-01",
        "2024-01-01",
        "2024-02-01",
    ]
    assert {r["count"] for r in body["rows"]} == {0}
