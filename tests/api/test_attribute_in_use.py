"""An attribute a segment or a live message uses cannot be deleted (409 naming them)."""

from __future__ import annotations

import pytest

from tests.conftest import error_of

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


@pytest.fixture
def plan(api):
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201
    assert api.put("/users/u1", {"plan": "pro"}).status_code == 201


def test_a_segment_filtering_on_it_keeps_it(api, plan) -> None:
    seg = api.post("/segments", {"name": "Pro users", "filter": {"or": [PRO]}}).json()
    r = api.delete("/attributes/plan")
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "attribute_in_use"
    assert f'segment "Pro users" ({seg["id"]})' in err["message"]
    assert api.get("/users/u1").json()["plan"] == "pro"  # nothing was deleted
    assert api.delete(f"/segments/{seg['id']}").status_code == 204
    assert api.delete("/attributes/plan").status_code == 204


def test_a_live_message_targeting_by_it_keeps_it_until_archived(api, plan) -> None:
    msg = api.post(
        "/messages", {"channel": "in_app", "title": "Hi", "body": "x", "audience": PRO,
                      "status": "live"},
    ).json()  # fmt: skip
    r = api.delete("/attributes/plan")
    assert r.status_code == 409
    assert f"({msg['id']})" in error_of(r)["message"]
    api.patch(f"/messages/{msg['id']}", {"status": "archived"})
    assert api.delete("/attributes/plan").status_code == 204


def test_an_unused_attribute_is_deleted(api, plan) -> None:
    api.post("/attributes", {"name": "seats", "type": "number"})
    api.post("/segments", {"name": "Pro", "filter": PRO})
    assert api.delete("/attributes/seats").status_code == 204
