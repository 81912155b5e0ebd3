"""POST /users/search and /users/count: every operator, on the database under test."""

from datetime import UTC, datetime, timedelta

import pytest

from pavior.core.clock import FakeClock, use_clock
from tests.conftest import error_of

# "N days ago" counts from the server's clock: held still here (noon UTC), so a
# run near midnight cannot see two different todays. The boundary itself is
# tested in test_days_ago_at_midnight.py.
NOW = datetime(2025, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with use_clock(FakeClock(NOW)) as c:
        yield c


@pytest.fixture(params=["json", "typed"])
def people(request, api):
    """The users below; "typed": their custom attributes are then copied into
    the typed side table (people.IndexedValue) and every filter reads it."""
    rows = _people(api)
    if request.param == "typed":
        from pavior.people.indexed import backfill, mark_indexed
        from pavior.people.models import Person

        workspace = Person.objects.get(external_id="u1").workspace
        for name in ("plan", "seats", "renewal_at", "vip"):
            backfill(mark_indexed(workspace.pk, name))
    return rows


def _people(api):
    for name, type_ in [
        ("plan", "string"),
        ("seats", "number"),
        ("renewal_at", "date"),
        ("vip", "boolean"),
    ]:
        assert api.post("/attributes", {"name": name, "type": type_}).status_code == 201
    now = NOW
    rows = [
        {
            "id": "u1",
            "email": "ann@acme.com",
            "name": "Ann Lee",
            "plan": "Pro",
            "seats": 5,
            "renewal_at": (now - timedelta(days=3)).isoformat(),
            "vip": True,
        },
        {
            "id": "u2",
            "email": "bob@ACME.com",
            "name": "Bob Ray",
            "plan": "pro",
            "seats": 12.5,
            "renewal_at": (now - timedelta(days=40)).isoformat(),
            "vip": False,
        },
        {"id": "u3", "email": "cy@other.org", "name": "Cy", "plan": "free", "seats": 0},
        {"id": "u4", "email": "dee@other.org"},
    ]
    for row in rows:
        assert api.post("/users", row).status_code == 201
    return rows


def ids(api, flt, **extra):
    r = api.post("/users/search", {"filter": flt, "limit": 100, **extra})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["total"] == len(body["users"])
    count = api.post("/users/count", {"filter": flt, **extra}).json()["count"]
    assert count == body["total"]
    return sorted(u["id"] for u in body["users"])


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"attribute": "plan", "op": "eq", "value": "pro"}, ["u2"]),  # exact, case-sensitive
        ({"attribute": "plan", "op": "ne", "value": "pro"}, ["u1", "u3", "u4"]),  # unset too
        ({"attribute": "plan", "op": "contains", "value": "PR"}, ["u1", "u2"]),
        ({"attribute": "plan", "op": "not_contains", "value": "pr"}, ["u3", "u4"]),
        ({"attribute": "email", "op": "contains", "value": "acme"}, ["u1", "u2"]),
        ({"attribute": "email", "op": "ends_with", "value": "acme.COM"}, ["u1", "u2"]),
        ({"attribute": "name", "op": "starts_with", "value": "b"}, ["u2"]),
        ({"attribute": "plan", "op": "is_set"}, ["u1", "u2", "u3"]),
        ({"attribute": "plan", "op": "is_not_set"}, ["u4"]),
        ({"attribute": "seats", "op": "gt", "value": 5}, ["u2"]),
        ({"attribute": "seats", "op": "gte", "value": 5}, ["u1", "u2"]),
        ({"attribute": "seats", "op": "lt", "value": 5}, ["u3"]),
        ({"attribute": "seats", "op": "lte", "value": "5"}, ["u1", "u3"]),
        ({"attribute": "seats", "op": "eq", "value": 12.5}, ["u2"]),
        ({"attribute": "seats", "op": "ne", "value": 0}, ["u1", "u2", "u4"]),
        ({"attribute": "vip", "op": "eq", "value": True}, ["u1"]),
        ({"attribute": "vip", "op": "eq", "value": False}, ["u2"]),
        ({"attribute": "vip", "op": "ne", "value": True}, ["u2", "u3", "u4"]),
        ({"attribute": "renewal_at", "op": "less_than_days_ago", "value": 7}, ["u1"]),
        ({"attribute": "renewal_at", "op": "more_than_days_ago", "value": 7}, ["u2"]),
        ({"attribute": "renewal_at", "op": "exactly_days_ago", "value": 3}, ["u1"]),
        ({"attribute": "renewal_at", "op": "is_not_set"}, ["u3", "u4"]),
        (
            {"attribute": "first_known_at", "op": "less_than_days_ago", "value": 1},
            ["u1", "u2", "u3", "u4"],
        ),
        ({"attribute": "email_subscription", "op": "eq", "value": True}, ["u1", "u2", "u3", "u4"]),
        ({"attribute": "total_visits", "op": "eq", "value": 0}, ["u1", "u2", "u3", "u4"]),
        (
            {
                "and": [
                    {"attribute": "plan", "op": "contains", "value": "pro"},
                    {"attribute": "seats", "op": "gt", "value": 10},
                ]
            },
            ["u2"],
        ),
        (
            {
                "or": [
                    {"attribute": "plan", "op": "eq", "value": "free"},
                    {
                        "and": [
                            {"attribute": "vip", "op": "eq", "value": True},
                            {"attribute": "seats", "op": "lt", "value": 10},
                        ]
                    },
                ]
            },
            ["u1", "u3"],
        ),
    ],
)
def test_operators(api, people, flt, expected):
    assert ids(api, flt) == expected


def test_date_before_after_and_on(api, people):
    api.put("/users/u3", {"renewal_at": "2024-05-01T23:30:00Z"})
    assert ids(api, {"attribute": "renewal_at", "op": "on", "value": "2024-05-01"}) == ["u3"]
    assert ids(api, {"attribute": "renewal_at", "op": "before", "value": "2024-06-01"}) == ["u3"]
    assert "u3" not in ids(api, {"attribute": "renewal_at", "op": "after", "value": "2024-06-01"})
    # "on" is a calendar day in the workspace's time zone.
    api.patch("/workspace", {"timezone": "Europe/Paris"})
    assert ids(api, {"attribute": "renewal_at", "op": "on", "value": "2024-05-02"}) == ["u3"]


def test_search_by_name_or_email(api, people):
    assert ids(api, None, search="ray") == ["u2"]
    assert ids(api, None, search="OTHER.org") == ["u3", "u4"]


@pytest.mark.parametrize(
    ("flt", "code", "words"),
    [
        ({"attribute": "nope", "op": "eq", "value": 1}, "unknown_attribute", ["nope"]),
        ({"attribute": "a') OR 1=1--", "op": "eq", "value": 1}, "unknown_attribute", []),
        (
            {"attribute": "current_page_url", "op": "contains", "value": "/pricing"},
            "live_attribute",
            ["live"],
        ),
        (
            {"attribute": "seats", "op": "contains", "value": "1"},
            "invalid_filter",
            ["contains", "seats", "number"],
        ),
        ({"attribute": "plan", "op": "gt", "value": "a"}, "invalid_filter", ["gt", "plan"]),
        ({"attribute": "seats", "op": "gt", "value": "many"}, "invalid_filter", ["seats"]),
        ({"and": []}, "invalid_filter", []),
        ({"attribute": "plan", "op": "eq"}, "invalid_filter", []),
    ],
)
def test_bad_filters_are_422_and_say_which(api, people, flt, code, words):
    for path in ("/users/search", "/users/count"):
        r = api.post(path, {"filter": flt})
        assert r.status_code == 422, r.content
        err = error_of(r)
        assert err["code"] == code, err
        for word in words:
            assert word in err["message"], err


def test_live_attribute_cannot_sort(api, people):
    r = api.post("/users/search", {"sort": {"attribute": "time_on_current_page"}})
    assert r.status_code == 422
    assert error_of(r)["code"] == "live_attribute"


def test_scoped_to_workspace(api, people, client):
    from pavior.workspaces.actions import create_workspace
    from tests.conftest import ApiClient

    other = ApiClient(client=client, key=create_workspace("Other").api_key)
    other.post("/attributes", {"name": "plan", "type": "string"})
    other.post("/users", {"id": "x", "plan": "pro"})
    assert ids(api, {"attribute": "plan", "op": "eq", "value": "pro"}) == ["u2"]
    assert api.post("/users/count", {}).json()["count"] == 4
