"""Every report and count gives the same answer from the typed side table
(people.IndexedValue) as from the JSON column: same users, same requests,
asked before and after the attributes are indexed."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.indexed import backfill, mark_indexed
from pavior.segments.actions import create_segment
from pavior.segments.queries import count_people
from pavior.segments.reports import report_for
from pavior.segments.saved import parse_workspace_filter

FILTERS: list[Any] = [
    None,
    {"attribute": "plan", "op": "eq", "value": "pro"},
    {"attribute": "plan", "op": "ne", "value": "pro"},
    {"attribute": "plan", "op": "is_not_set"},
    {"attribute": "plan", "op": "contains", "value": "R"},
    {
        "and": [
            {"attribute": "seats", "op": "gte", "value": 2},
            {"attribute": "seats", "op": "lt", "value": 9},
        ]
    },
    {
        "or": [
            {"attribute": "vip", "op": "eq", "value": True},
            {"attribute": "plan", "op": "eq", "value": "free"},
        ]
    },
    {
        "and": [
            {"attribute": "plan", "op": "is_set"},
            {"attribute": "country", "op": "eq", "value": "FR"},
        ]
    },
    {"attribute": "trial_at", "op": "more_than_days_ago", "value": 30},
]
REPORTS: list[dict[str, Any]] = [
    {"kind": "breakdown", "attribute": "plan", "limit": 2},
    {"kind": "breakdown", "attribute": "seats"},
    {"kind": "breakdown", "attribute": "vip"},
    {"kind": "breakdown", "attribute": "country"},
    {"kind": "histogram", "attribute": "seats", "bins": 4},
    {"kind": "histogram", "attribute": "seats", "bins": 3, "min": 2, "max": 6},
    {"kind": "histogram", "attribute": "seats", "bins": 3, "min": 50},
    {
        "kind": "timeseries",
        "attribute": "trial_at",
        "interval": "month",
        "from": "2024-01-01",
        "to": "2024-06-30",
    },
    {
        "kind": "timeseries",
        "attribute": "trial_at",
        "interval": "day",
        "from": "2024-03-28",
        "to": "2024-04-02",
    },
]


def answers(workspace: Any, segment_id: int) -> list[Any]:
    out: list[Any] = []
    for flt in [*FILTERS, {"segment": segment_id}]:
        node = parse_workspace_filter(workspace, flt)
        out.append(count_people(workspace, node))
        for report in REPORTS:
            body = {**report, "filter": flt} if flt else report
            out.append(report_for(workspace, body).as_json())
    return out


@pytest.mark.django_db
def test_reports_and_counts_same_over_side_table(workspace: Any) -> None:
    rng = random.Random(7)
    for name, kind in [
        ("plan", "string"),
        ("seats", "number"),
        ("vip", "boolean"),
        ("trial_at", "date"),
    ]:
        create_attribute(workspace, name, kind)
    for i in range(60):
        values: dict[str, Any] = {"id": f"u{i}", "country": rng.choice(["FR", "DE", None])}
        if rng.random() < 0.7:
            values["plan"] = rng.choice(["pro", "Pro", "free", "team"])
        if rng.random() < 0.7:
            values["seats"] = rng.choice([0, 1, 2.5, 3, 6, 8, 12])
        if rng.random() < 0.6:
            values["vip"] = rng.random() < 0.5
        if rng.random() < 0.7:
            values["trial_at"] = f"2024-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}T23:30:00Z"
        upsert_user(workspace, values, trust=Trust.SECRET)
    segment = create_segment(workspace, "Pro or big", {"or": FILTERS[1:2] + FILTERS[5:6]})

    before = answers(workspace, segment.pk)
    for name in ("plan", "seats", "vip", "trial_at"):
        backfill(mark_indexed(workspace.pk, name))  # type: ignore[arg-type]
    after = answers(workspace, segment.pk)
    assert after == before
