"""Sorting puts users without a value last in both directions; ties break by id;
cursors walk every user exactly once."""

import pytest


@pytest.fixture
def people(api):
    api.post("/attributes", {"name": "seats", "type": "number"})
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.post("/attributes", {"name": "trial_at", "type": "date"})
    seats = {"a": 3, "b": None, "c": 1, "d": 3, "e": None, "f": 10, "g": 1}
    for uid, n in seats.items():
        body = {"seats": n, "plan": None if n is None else f"p{n}"}
        if n is not None:
            body["trial_at"] = 1700000000 + n * 86400
        api.put(f"/users/{uid}", body)
    return seats


def walk(api, sort, limit):
    seen, cursor = [], None
    while True:
        body = {"sort": sort, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        r = api.post("/users/search", body)
        assert r.status_code == 200, r.content
        page = r.json()
        seen += [u["id"] for u in page["users"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen


@pytest.mark.parametrize("attribute", ["seats", "plan", "trial_at"])
@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_custom_sort(api, people, attribute, limit):
    asc = walk(api, {"attribute": attribute, "direction": "asc"}, limit)
    desc = walk(api, {"attribute": attribute, "direction": "desc"}, limit)
    if attribute == "plan":  # text order: "p1" < "p10" < "p3"
        assert asc == ["c", "g", "f", "a", "d", "b", "e"]
        assert desc == ["a", "d", "f", "c", "g", "b", "e"]
    else:
        assert asc == ["c", "g", "a", "d", "f", "b", "e"]
        assert desc == ["f", "a", "d", "c", "g", "b", "e"]


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_builtin_sort_and_default_order(api, people, limit):
    api.put("/users/c", {"signed_up_at": "2024-01-02"})
    api.put("/users/a", {"signed_up_at": "2024-01-01"})
    api.put("/users/f", {"signed_up_at": "2024-01-02"})
    order = walk(api, {"attribute": "signed_up_at", "direction": "desc"}, limit)
    assert order == ["c", "f", "a", "b", "d", "e", "g"]
    assert walk(api, None, limit) == sorted(people)


def test_bad_cursor(api, people):
    r = api.post("/users/search", {"cursor": "garbage!!"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "cursor"


def test_total_can_be_skipped_when_paging(api, people):
    r = api.post("/users/search", {"limit": 2, "include_total": False})
    assert r.status_code == 200
    assert r.json()["total"] is None
    assert len(r.json()["users"]) == 2 and r.json()["next_cursor"]
    assert api.post("/users/search", {"limit": 2}).json()["total"] == 7
