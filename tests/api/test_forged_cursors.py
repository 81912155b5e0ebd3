"""A cursor is checked against the sort it claims to continue: a forged one
(wrong shape, wrong type, NUL, numbers no column holds) is a 400 naming the
cursor, never a 500; every genuine cursor still walks the whole list."""

from __future__ import annotations

import base64
import json

import pytest

from pavior.people.models import Person
from tests.conftest import error_of

SORTS = [
    None,
    "plan",
    "seats",
    "trial_at",
    "vip",
    "email",
    "total_visits",
    "total_time_spent",
    "last_seen_at",
]


def forge(value: object) -> str:
    """A cursor as the API encodes one, around any JSON."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forge_text(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


@pytest.fixture
def people(api):
    for name, type_ in [
        ("plan", "string"),
        ("seats", "number"),
        ("trial_at", "date"),
        ("vip", "boolean"),
    ]:
        assert api.post("/attributes", {"name": name, "type": type_}).status_code == 201
    for i, uid in enumerate(["a", "b", "c", "d"]):
        body = {"email": f"{uid}@example.com"}
        if uid != "d":  # one user without values, who sorts last
            body |= {"plan": f"p{i}", "seats": i * 1.5, "trial_at": 1700000000 + i, "vip": i % 2}
        assert api.put(f"/users/{uid}", body).status_code == 201
    Person.objects.filter(external_id="b").update(total_visits=4, total_time_spent=9.5)
    return ["a", "b", "c", "d"]


def sort_body(attribute):
    return {"attribute": attribute, "direction": "desc"} if attribute else None


@pytest.mark.parametrize("attribute", SORTS)
def test_genuine_cursors_walk_every_user_once(api, people, attribute):
    seen, cursor = [], None
    while True:
        body = {"sort": sort_body(attribute), "limit": 1, "cursor": cursor}
        r = api.post("/users/search", body)
        assert r.status_code == 200, r.content
        seen += [u["id"] for u in r.json()["users"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == people


FORGED = [
    [[1, 2], "x"],
    [1e308, "x"],
    [-1e308, "x"],
    [{"dt": "9999-12-31T23:59:59+00:00"}, "x"],
    [{"dt": "not a date"}, "x"],
    [{"dt": "2024-05-01T00:00:00"}, "x"],  # naive
    [{"dt": 5}, "x"],
    [{"x": 1}, "x"],
    [1, "\u0000"],
    ["a\u0000b", "x"],
    [1, "\ud800"],
    ["\udfff", "x"],
    [1, 2],
    [1, None],
    [True, "x"],
    ["x" * 1001, "x"],
    [1, "x" * 1001],
    [1],
    [1, "x", 3],
    {"a": 1},
    "x",
    None,
    [2**70, "x"],
]


@pytest.mark.parametrize("attribute", SORTS)
def test_forged_cursors_are_a_400_naming_the_cursor(api, people, attribute):
    for forged in FORGED:
        for cursor in (forge(forged), forge_text(json.dumps(forged, ensure_ascii=False))):
            r = api.post(
                "/users/search", {"sort": sort_body(attribute), "limit": 2, "cursor": cursor}
            )
            if r.status_code == 200:
                # Only a value of the sort's own type gets through (e.g. a
                # string cursor under a string sort): it is then a real
                # position, and the page is an ordinary one.
                continue
            assert r.status_code == 400, (attribute, forged, r.content)
            err = error_of(r)
            assert err["code"] == "invalid_cursor" and err["field"] == "cursor"


@pytest.mark.parametrize(
    ("attribute", "forged"),
    [
        ("total_visits", [1e308, "x"]),
        ("total_visits", [[1, 2], "x"]),
        ("last_seen_at", [1e308, "x"]),
        ("last_seen_at", [{"dt": "9999-12-31T23:59:59+00:00"}, "x"]),
        ("trial_at", [{"dt": "2024-05-01T00:00:00+00:00"}, "x"]),
        ("seats", [[1, 2], "x"]),
        ("vip", [1, "x"]),
        ("plan", [{"dt": "2024-05-01T00:00:00+00:00"}, "x"]),
        ("plan", ["p1", "\u0000"]),
        (None, [1, "x"]),
    ],
)
def test_each_shape_is_refused_for_the_sort_it_does_not_fit(api, people, attribute, forged):
    r = api.post("/users/search", {"sort": sort_body(attribute), "cursor": forge(forged)})
    assert r.status_code == 400, r.content
    assert "cursor" in error_of(r)["message"]


def test_a_huge_cursor_is_a_400(api, people):
    r = api.post("/users/search", {"cursor": "A" * 100_000})
    assert r.status_code == 400
    r = api.post("/users/search", {"cursor": forge([[[[[[1]]]]] * 1, "x"])})
    assert r.status_code == 400
