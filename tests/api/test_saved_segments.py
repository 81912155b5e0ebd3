"""/segments: save a filter, count it, use it inside other filters, rename, delete."""

from __future__ import annotations

import pytest

from tests.conftest import error_of

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


@pytest.fixture
def people(api):
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201
    for i, (plan, country) in enumerate(
        [("pro", "FR"), ("pro", "DE"), ("free", "FR"), (None, "FR"), ("pro", None)]
    ):
        body = {"id": f"u{i}", "plan": plan, "country": country}
        assert api.post("/users", body).status_code == 201, api.post("/users", body).content


def count(api, flt) -> int:
    r = api.post("/users/count", {"filter": flt})
    assert r.status_code == 200, r.content
    return r.json()["count"]


def test_create_read_and_count_a_segment(api, people) -> None:
    r = api.post("/segments", {"name": "  Pro   users ", "filter": PRO})
    assert r.status_code == 201, r.content
    seg = r.json()
    assert seg["name"] == "Pro users"  # trimmed, one space between words
    assert seg["filter"] == PRO
    one = api.get(f"/segments/{seg['id']}").json()
    assert one["count"] == 3
    assert [s["name"] for s in api.get("/segments").json()] == ["Pro users"]


def test_the_count_follows_the_users_as_they_are_now(api, people) -> None:
    seg = api.post("/segments", {"name": "Pro", "filter": PRO}).json()
    api.post("/users", {"id": "u9", "plan": "pro"})
    assert api.get(f"/segments/{seg['id']}").json()["count"] == 4


def test_a_segment_inside_a_filter_is_its_filter_as_it_is_now(api, people) -> None:
    seg = api.post("/segments", {"name": "Pro", "filter": PRO}).json()
    fr = {"attribute": "country", "op": "eq", "value": "FR"}
    assert count(api, {"and": [{"segment": seg["id"]}, fr]}) == 1
    assert count(api, {"or": [{"segment": seg["id"]}, fr]}) == 5
    search = api.post("/users/search", {"filter": {"segment": seg["id"]}}).json()
    assert sorted(u["id"] for u in search["users"]) == ["u0", "u1", "u4"]
    # Change the segment: every filter naming it changes with it.
    r = api.patch(
        f"/segments/{seg['id']}", {"filter": {"attribute": "plan", "op": "eq", "value": "free"}}
    )
    assert r.status_code == 200, r.content
    assert count(api, {"and": [{"segment": seg["id"]}, fr]}) == 1
    assert count(api, {"segment": seg["id"]}) == 1


def test_a_segment_without_a_filter_is_everyone_even_inside_or(api, people) -> None:
    everyone = api.post("/segments", {"name": "Everyone"}).json()
    assert api.get(f"/segments/{everyone['id']}").json()["count"] == 5
    assert count(api, {"or": [{"segment": everyone["id"]}, PRO]}) == 5


def test_segments_can_include_segments(api, people) -> None:
    pro = api.post("/segments", {"name": "Pro", "filter": PRO}).json()
    fr = {"attribute": "country", "op": "eq", "value": "FR"}
    pro_fr = api.post(
        "/segments", {"name": "Pro in France", "filter": {"and": [{"segment": pro["id"]}, fr]}}
    ).json()
    assert api.get(f"/segments/{pro_fr['id']}").json()["count"] == 1


def test_names_are_unique_per_workspace_ignoring_case(api, people) -> None:
    api.post("/segments", {"name": "VIP", "filter": PRO})
    r = api.post("/segments", {"name": "vip", "filter": None})
    assert r.status_code == 409
    err = error_of(r)
    assert err["field"] == "name" and '"VIP"' in err["message"]
    other = api.post("/segments", {"name": "Others"}).json()
    r = api.patch(f"/segments/{other['id']}", {"name": "Vip"})
    assert r.status_code == 409
    assert api.get(f"/segments/{other['id']}").json()["name"] == "Others"


def test_the_same_name_in_another_workspace_is_fine(api, people) -> None:
    from pavior.segments.actions import create_segment
    from pavior.workspaces.actions import create_workspace

    api.post("/segments", {"name": "VIP"})
    create_segment(create_workspace("Other").workspace, "VIP", {})


def test_a_segment_that_includes_itself_is_refused(api, people) -> None:
    a = api.post("/segments", {"name": "A", "filter": PRO}).json()
    b = api.post("/segments", {"name": "B", "filter": {"segment": a["id"]}}).json()
    r = api.patch(f"/segments/{a['id']}", {"filter": {"or": [PRO, {"segment": b["id"]}]}})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "segment_cycle"
    assert f"{a['id']} → {b['id']} → {a['id']}" in err["message"]
    r = api.patch(f"/segments/{a['id']}", {"filter": {"segment": a["id"]}})
    assert error_of(r)["code"] == "segment_cycle"
    assert api.get(f"/segments/{a['id']}").json()["filter"] == PRO  # unchanged


def test_unknown_segments(api, people) -> None:
    r = api.post("/users/count", {"filter": {"segment": 999}})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "unknown_segment" and "999" in err["message"]
    assert err["field"] == "filter.segment"
    r = api.post("/segments", {"name": "X", "filter": {"segment": 999}})
    assert r.status_code == 422 and "999" in error_of(r)["message"]
    for call in (api.get, api.delete):
        r = call("/segments/999")
        assert r.status_code == 404 and "999" in error_of(r)["message"]
    r = api.patch("/segments/999", {"name": "Y"})
    assert r.status_code == 404
    r = api.get(f"/segments/{2**70}")
    assert r.status_code in (404, 422)


def test_another_workspaces_segment_is_unknown(api, people) -> None:
    from pavior.segments.actions import create_segment
    from pavior.workspaces.actions import create_workspace

    theirs = create_segment(create_workspace("Other").workspace, "Theirs", {})
    assert api.get(f"/segments/{theirs.pk}").status_code == 404
    r = api.post("/users/count", {"filter": {"segment": theirs.pk}})
    assert error_of(r)["code"] == "unknown_segment"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 12}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "a\u0007b"}, "name"),
        ({"name": "a\u200bb"}, "name"),
        ({"name": "ok", "filter": {"attribute": "nope", "op": "is_set"}}, "filter.attribute"),
        (
            {"name": "ok", "filter": {"attribute": "current_page_url", "op": "is_set"}},
            "filter.attribute",
        ),
        ({"name": "ok", "filter": {"segment": "1"}}, "filter.segment"),
        ({"name": "ok", "extra": 1}, "extra"),
    ],
)
def test_bad_segments_are_422s_naming_the_field(api, people, body, field) -> None:
    r = api.post("/segments", body)
    assert r.status_code in (400, 422), r.content
    assert error_of(r)["field"] == field
    assert api.get("/segments").json() == []


def test_deleting_a_segment_another_one_includes_is_refused(api, people) -> None:
    a = api.post("/segments", {"name": "A", "filter": PRO}).json()
    b = api.post("/segments", {"name": "B", "filter": {"and": [{"segment": a["id"]}]}}).json()
    r = api.delete(f"/segments/{a['id']}")
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "segment_in_use" and '"B"' in err["message"]
    assert api.delete(f"/segments/{b['id']}").status_code == 204
    assert api.delete(f"/segments/{a['id']}").status_code == 204
    assert api.get("/segments").json() == []


def test_a_registered_in_use_check_refuses_the_delete(api, people) -> None:
    # The hook messaging will use: a live message targeting the segment.
    from pavior.segments.hooks import segment_in_use_checks

    a = api.post("/segments", {"name": "Trial", "filter": PRO}).json()

    def check(segment):
        return 'live message "Welcome" targets it' if segment.pk == a["id"] else None

    segment_in_use_checks.append(check)
    try:
        r = api.delete(f"/segments/{a['id']}")
    finally:
        segment_in_use_checks.remove(check)
    assert r.status_code == 409
    assert 'live message "Welcome"' in error_of(r)["message"]
    assert api.get(f"/segments/{a['id']}").status_code == 200


def test_a_patch_can_clear_the_filter_or_leave_it(api, people) -> None:
    a = api.post("/segments", {"name": "A", "filter": PRO}).json()
    assert api.patch(f"/segments/{a['id']}", {"name": "A2"}).json()["filter"] == PRO
    assert api.patch(f"/segments/{a['id']}", {"filter": None}).json()["filter"] is None
    assert api.get(f"/segments/{a['id']}").json()["count"] == 5
