"""Every report kind against a plain-Python computation over the same users.

Hypothesis draws users (values near local midnights, DST changes, ties of
case-differing strings), a workspace time zone, a scope and a report; the
database's answer (on whichever database the suite runs) must equal the one
computed here from the values as written.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pavior.core.attributes import Trust

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
PLANS = ["a", "A", "b", "B", "pro", "Pro", "=cmd"]
SEATS = [-2.5, 0, 0.1, 1, 3, 3, 7.25, 10, 1e6]
COUNTRIES = ["FR", "DE", "US", "NP"]


def local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


@st.composite
def instants(draw: Any, tz_name: str) -> datetime:
    """Instants around local midnights (where a wrong zone or DST rule shows) or anywhere."""
    tz = zoneinfo.ZoneInfo(tz_name)
    day = draw(st.dates(date(2023, 1, 1), date(2025, 12, 31)))
    if draw(st.booleans()):
        offset = draw(st.sampled_from([0, 1, -1, 1800, -1800, 3600, 86399]))
        return local_midnight(day, tz) + timedelta(seconds=offset)
    seconds = draw(st.integers(0, 86399))
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=seconds)


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    tz_name = draw(st.sampled_from(ZONES))
    user = st.fixed_dictionaries(
        {
            "plan": st.none() | st.sampled_from(PLANS),
            "seats": st.none() | st.sampled_from(SEATS) | st.integers(-50, 50),
            "trial_at": st.none() | instants(tz_name),
            "signed_up_at": st.none() | instants(tz_name),
            "country": st.none() | st.sampled_from(COUNTRIES),
        }
    )
    users = draw(st.lists(user, max_size=12))
    kind = draw(st.sampled_from(["breakdown", "histogram", "timeseries"]))
    report: dict[str, Any] = {"kind": kind}
    if kind == "breakdown":
        report["attribute"] = draw(st.sampled_from(["plan", "seats", "country"]))
        report["limit"] = draw(st.integers(1, 5))
    elif kind == "histogram":
        report["attribute"] = "seats"
        report["bins"] = draw(st.integers(1, 7))
        if draw(st.booleans()):
            report["min"] = draw(st.sampled_from([-10, 0, 0.5, 3, 20]))
        if draw(st.booleans()):
            report["max"] = draw(st.sampled_from([0, 3, 7.25, 10, 50]))
        if report.get("min", -math.inf) > report.get("max", math.inf):
            report["min"], report["max"] = report["max"], report["min"]
    else:
        report["attribute"] = draw(st.sampled_from(["trial_at", "signed_up_at"]))
        report["interval"] = draw(st.sampled_from(["day", "week", "month"]))
        first = draw(st.dates(date(2022, 12, 1), date(2025, 12, 31)))
        span = {"day": 60, "week": 300, "month": 1200}[report["interval"]]
        last = first + timedelta(days=draw(st.integers(0, span)))
        report["from"], report["to"] = first.isoformat(), last.isoformat()
    scope = draw(st.sampled_from(["all", "plan_set", "segment", "plan_segment"]))
    # The typed side table (people.IndexedValue) for some custom attributes:
    # marked before the users are written (the triggers copy each write) or
    # after (the backfill copies them); the answers must not change.
    indexed = draw(st.sets(st.sampled_from(["plan", "seats", "trial_at"])))
    when = draw(st.sampled_from(["before", "after"]))
    return {
        "tz": tz_name,
        "users": users,
        "report": report,
        "scope": scope,
        "indexed": sorted(indexed),
        "index_when": when,
    }


def in_scope(user: dict[str, Any], scope: str) -> bool:
    if scope == "all":
        return True
    if scope == "plan_set":
        return user["plan"] is not None
    if scope == "plan_segment":  # custom attributes only (answered from the side table alone)
        return user["plan"] in ("a", "pro") or (user["seats"] is not None and user["seats"] < 3)
    return (user["seats"] or 0) >= 3 or user["country"] == "FR"  # the segment below


def number(x: float) -> Any:
    return int(x) if float(x).is_integer() else x


def expected_breakdown(values: list[Any], limit: int) -> tuple[list[dict[str, Any]], int]:
    counts = Counter(values)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = [{"value": v, "count": n} for v, n in ordered[:limit]]
    return rows, len(values) - sum(r["count"] for r in rows)


def expected_histogram(values: list[float], spec: dict[str, Any]) -> dict[str, Any]:
    low, high = spec.get("min"), spec.get("max")
    if not values and (low is None or high is None):
        return {"rows": [], "other": 0}
    low = min(values) if low is None else low
    high = max(values) if high is None else high
    if low > high:
        if "min" in spec:
            high = low
        else:
            low = high
    bins = spec["bins"] if high > low else 1
    width = (high - low) / bins if high > low else 0.0
    counts = [0] * bins
    for v in values:
        if low <= v <= high:
            i = bins - 1 if width == 0 else min(math.floor((v - low) / width), bins - 1)
            counts[i] += 1
    return {"counts": counts, "other": len(values) - sum(counts), "low": low, "high": high}


def bucket_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if interval == "month" else day


def next_bucket(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def expected_timeseries(
    values: list[datetime], spec: dict[str, Any], tz: zoneinfo.ZoneInfo
) -> dict[str, Any]:
    interval = spec["interval"]
    first = bucket_start(date.fromisoformat(spec["from"]), interval)
    last = bucket_start(date.fromisoformat(spec["to"]), interval)
    keys = [first]
    while keys[-1] < last:
        keys.append(next_bucket(keys[-1], interval))
    counts = dict.fromkeys(keys, 0)
    for v in values:
        key = bucket_start(v.astimezone(tz).date(), interval)
        if key in counts:
            counts[key] += 1
    rows = [{"bucket": k.isoformat(), "count": n} for k, n in counts.items()]
    return {"rows": rows, "other": len(values) - sum(counts.values())}


def index(ws: Any, names: list[str]) -> None:
    from pavior.people.indexed import backfill, mark_indexed

    for name in names:
        pk = mark_indexed(ws.pk, name)
        if pk is not None:
            backfill(pk, batch=3)


def make_workspace(case: dict[str, Any]) -> tuple[Any, Any]:
    from pavior.people.actions import create_attribute, upsert_user
    from pavior.segments.actions import create_segment
    from pavior.workspaces.actions import create_workspace, update_workspace_settings

    ws = create_workspace("Reports").workspace
    ws = update_workspace_settings(ws, {"timezone": case["tz"]})
    for name, kind in [("plan", "string"), ("seats", "number"), ("trial_at", "date")]:
        create_attribute(ws, name, kind)
    if case["index_when"] == "before":
        index(ws, case["indexed"])
    for i, u in enumerate(case["users"]):
        values: dict[str, Any] = {"id": f"u{i}"}
        for key, value in u.items():
            if value is not None:
                values[key] = value.isoformat() if isinstance(value, datetime) else value
        upsert_user(ws, values, trust=Trust.SECRET)
    if case["index_when"] == "after":
        index(ws, case["indexed"])
    create_segment(
        ws,
        "Pro-ish or small",
        {
            "or": [
                {"attribute": "plan", "op": "eq", "value": "a"},
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"attribute": "seats", "op": "lt", "value": 3},
            ]
        },
    )
    segment = create_segment(
        ws,
        "Big or French",
        {
            "or": [
                {"attribute": "seats", "op": "gte", "value": 3},
                {"attribute": "country", "op": "eq", "value": "FR"},
            ]
        },
    )
    return ws, segment


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_reports_match_plain_python(case: dict[str, Any]) -> None:
    from pavior.segments.queries import count_people
    from pavior.segments.reports import report_for
    from pavior.segments.saved import parse_workspace_filter

    ws, segment = make_workspace(case)
    request = dict(case["report"])
    if case["scope"] == "plan_set":
        request["filter"] = {"attribute": "plan", "op": "is_set"}
    elif case["scope"] == "segment":
        request["filter"] = {"segment": segment.pk}
    elif case["scope"] == "plan_segment":
        request["filter"] = {"segment": segment.pk - 1}
    got = report_for(ws, request).as_json()
    event(f"{request['kind']}: {'some' if got['total'] - got['unset'] else 'no'} values")

    users = [u for u in case["users"] if in_scope(u, case["scope"])]
    attribute = request["attribute"]
    values = [u[attribute] for u in users if u[attribute] is not None]
    assert got["total"] == len(users)
    if "filter" in request:  # the count of the scope, as the users list shows it
        node = parse_workspace_filter(ws, request["filter"])
        assert count_people(ws, node) == len(users)
    assert got["unset"] == len(users) - len(values)
    if request["kind"] == "breakdown":
        if attribute == "seats":
            values = [float(v) for v in values]
        rows, other = expected_breakdown(values, request["limit"])
        if attribute == "seats":
            rows = [{"value": number(r["value"]), "count": r["count"]} for r in rows]
        assert got["rows"] == rows
        assert got["other"] == other
    elif request["kind"] == "histogram":
        want = expected_histogram([float(v) for v in values], request)
        assert got["other"] == want["other"]
        if not want.get("counts"):
            assert got["rows"] == []
        else:
            assert [r["count"] for r in got["rows"]] == want["counts"]
            assert got["rows"][0]["from"] == number(want["low"])
            assert got["rows"][-1]["to"] == number(want["high"])
    else:
        want = expected_timeseries(values, request, zoneinfo.ZoneInfo(case["tz"]))
        assert got["rows"] == want["rows"]
        assert got["other"] == want["other"]
