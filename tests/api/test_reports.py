"""POST /reports: JSON and CSV with the same numbers; every bad request a clear 4xx."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.conftest import error_of


@pytest.fixture
def people(api):
    for name, type_ in [("plan", "string"), ("seats", "number"), ("trial_at", "date")]:
        assert api.post("/attributes", {"name": name, "type": type_}).status_code == 201
    rows = [
        {"id": "u1", "plan": "pro", "seats": 1, "country": "FR", "trial_at": "2024-05-01"},
        {"id": "u2", "plan": "pro", "seats": 4, "country": "FR", "trial_at": "2024-05-01"},
        {"id": "u3", "plan": "=HYPERLINK(1)", "seats": 10, "country": "DE"},
        {"id": "u4", "plan": "free", "country": "US", "trial_at": "2024-05-03T10:00:00Z"},
        {"id": "u5", "plan": "team"},
        {"id": "u6"},
    ]
    for row in rows:
        assert api.post("/users", row).status_code == 201
    return rows


def report(api, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/reports", body)
    assert r.status_code == 200, r.content
    return r.json()


def csv_lines(api, body: dict[str, Any]) -> list[list[str]]:
    r = api.post("/reports?format=csv", body)
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(r.content.decode())))


def test_breakdown_top_n_other_and_unset(api, people) -> None:
    body = report(api, {"kind": "breakdown", "attribute": "plan", "limit": 2})
    assert body["rows"] == [{"value": "pro", "count": 2}, {"value": "=HYPERLINK(1)", "count": 1}]
    assert (body["total"], body["other"], body["unset"]) == (6, 2, 1)


def test_breakdown_limit_when_every_user_has_a_value(api, people) -> None:
    # No "unset" group to drop: exactly `limit` rows still come back.
    body = report(
        api,
        {
            "kind": "breakdown",
            "attribute": "country",
            "limit": 2,
            "filter": {"attribute": "country", "op": "is_set"},
        },
    )
    assert body["rows"] == [{"value": "FR", "count": 2}, {"value": "DE", "count": 1}]
    assert (body["total"], body["other"], body["unset"]) == (4, 1, 0)


def test_the_csv_has_the_same_numbers_and_is_formula_safe(api, people) -> None:
    request = {"kind": "breakdown", "attribute": "plan", "limit": 2}
    body = report(api, request)
    lines = csv_lines(api, request)
    assert lines[0] == ["row", "value", "count"]
    assert lines[1] == ["value", "pro", "2"]
    assert lines[2] == ["value", "'=HYPERLINK(1)", "1"]  # never a live formula
    assert lines[3:] == [
        ["other", "", str(body["other"])],
        ["unset", "", str(body["unset"])],
        ["total", "", str(body["total"])],
    ]


def test_histogram_bins_and_their_csv(api, people) -> None:
    request = {"kind": "histogram", "attribute": "seats", "bins": 3}
    body = report(api, request)
    assert body["rows"] == [
        {"from": 1, "to": 4, "count": 1},
        {"from": 4, "to": 7, "count": 1},
        {"from": 7, "to": 10, "count": 1},  # the last bin includes its upper edge
    ]
    assert (body["unset"], body["other"]) == (3, 0)
    lines = csv_lines(api, request)
    assert lines[1:4] == [["bin", "1", "4", "1"], ["bin", "4", "7", "1"], ["bin", "7", "10", "1"]]
    clipped = report(api, {**request, "min": 2, "max": 8})
    assert sum(r["count"] for r in clipped["rows"]) == 1 and clipped["other"] == 2


def test_timeseries_over_a_segment(api, people) -> None:
    seg = api.post(
        "/segments",
        {"name": "French", "filter": {"attribute": "country", "op": "eq", "value": "FR"}},
    ).json()
    request = {
        "kind": "timeseries",
        "attribute": "trial_at",
        "interval": "day",
        "from": "2024-04-30",
        "to": "2024-05-03",
        "filter": {"segment": seg["id"]},
    }
    body = report(api, request)
    assert body["rows"] == [
        {"bucket": "2024-04-30", "count": 0},
        {"bucket": "2024-05-01", "count": 2},
        {"bucket": "2024-05-02", "count": 0},
        {"bucket": "2024-05-03", "count": 0},
    ]
    assert body["total"] == 2
    lines = csv_lines(api, request)
    assert [line[1:] for line in lines[1:5]] == [
        [r["bucket"], str(r["count"])] for r in body["rows"]
    ]


def test_default_ranges(api, people) -> None:
    for interval, n in [("day", 30), ("week", 26), ("month", 12)]:
        body = report(api, {"kind": "timeseries", "attribute": "trial_at", "interval": interval})
        assert len(body["rows"]) == n


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"kind": "pie", "attribute": "plan"}, "kind", "breakdown"),
        ({"kind": {"a": 1}, "attribute": "plan"}, "kind", "breakdown"),
        ({"kind": "timeseries", "attribute": "trial_at", "interval": ["day"]}, "interval", "day"),
        ({"kind": "breakdown"}, "attribute", "attribute"),
        ({"kind": "breakdown", "attribute": "nope"}, "attribute", "nope"),
        ({"kind": "breakdown", "attribute": "current_page_url"}, "attribute", "live"),
        ({"kind": "breakdown", "attribute": "trial_at"}, "attribute", "date"),
        ({"kind": "histogram", "attribute": "plan"}, "attribute", "string"),
        ({"kind": "timeseries", "attribute": "seats"}, "attribute", "number"),
        ({"kind": "breakdown", "attribute": "plan", "limit": 0}, "limit", "1 to 1000"),
        ({"kind": "breakdown", "attribute": "plan", "limit": 10**12}, "limit", "1 to 1000"),
        ({"kind": "breakdown", "attribute": "plan", "limit": "5"}, "limit", "1 to 1000"),
        ({"kind": "histogram", "attribute": "seats", "bins": 101}, "bins", "1 to 100"),
        ({"kind": "histogram", "attribute": "seats", "bins": True}, "bins", "1 to 100"),
        ({"kind": "histogram", "attribute": "seats", "min": 5, "max": 1}, "min", "above max"),
        ({"kind": "histogram", "attribute": "seats", "min": "NaN"}, "min", "number"),
        ({"kind": "histogram", "attribute": "seats", "max": 10**400}, "max", "number"),
        ({"kind": "timeseries", "attribute": "trial_at", "interval": "year"}, "interval", "day"),
        (
            {
                "kind": "timeseries",
                "attribute": "trial_at",
                "from": "2024-05-02",
                "to": "2024-05-01",
            },
            "from",
            "after",
        ),
        (
            {
                "kind": "timeseries",
                "attribute": "trial_at",
                "from": "1990-01-01",
                "to": "2024-01-01",
            },
            "from",
            "10,000",
        ),
        ({"kind": "timeseries", "attribute": "trial_at", "from": "0001-01-01"}, "from", "between"),
        ({"kind": "timeseries", "attribute": "trial_at", "to": "9999-12-31"}, "to", "between"),
        ({"kind": "timeseries", "attribute": "trial_at", "to": "2024-02-30"}, "to", "date"),
        ({"kind": "timeseries", "attribute": "trial_at", "from": 10**30}, "from", "date"),
        (
            {"kind": "breakdown", "attribute": "plan", "filter": {"segment": 77}},
            "filter.segment",
            "77",
        ),
        ({"kind": "breakdown", "attribute": "plan", "filter": []}, "filter", "object"),
        ({"kind": "breakdown", "attribute": "plan", "colour": "red"}, "colour", "colour"),
    ],
)
def test_bad_reports_are_4xx_naming_the_problem(api, people, body, field, says) -> None:
    r = api.post("/reports", body)
    assert 400 <= r.status_code < 500, r.content
    err = error_of(r)
    assert err["field"] == field, err
    assert says in err["message"], err


def test_the_edges_of_the_range_still_work(api, people) -> None:
    body = report(
        api,
        {
            "kind": "timeseries",
            "attribute": "trial_at",
            "interval": "month",
            "from": "9999-01-01",
            "to": "9999-11-30",
        },
    )
    assert len(body["rows"]) == 11
    body = report(
        api,
        {
            "kind": "timeseries",
            "attribute": "signed_up_at",
            "interval": "week",
            "from": "0001-01-08",
            "to": "0001-03-01",
        },
    )
    assert body["rows"][0]["bucket"] == "0001-01-08"


def test_bad_bodies_and_formats(api, people) -> None:
    assert api.post("/reports", [1, 2]).status_code == 422
    assert api.post("/reports", "not json").status_code == 400
    r = api.post("/reports?format=xml", {"kind": "breakdown", "attribute": "plan"})
    assert r.status_code == 422 and error_of(r)["field"] == "format"
