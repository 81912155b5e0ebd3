"""/messages over REST: create, validate, move status, delete, stats (SPEC §10, §12)."""

from __future__ import annotations

import pytest

from tests.conftest import error_of

PRICING = {"attribute": "current_page_url", "op": "contains", "value": "/pricing"}
PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


@pytest.fixture
def plan(api):
    assert api.post("/attributes", {"name": "plan", "type": "string"}).status_code == 201


def new_message(api, **fields):
    body = {"channel": "in_app", "kind": "announcement", "title": "Hi", "body": "Hello"}
    body.update(fields)
    r = api.post("/messages", body)
    assert r.status_code == 201, r.content
    return r.json()


def test_create_read_and_list_an_in_site_message(api, plan) -> None:
    made = new_message(api, audience=PRO, rules=PRICING, body="**Pro** tips <script>x()</script>")
    assert made["status"] == "draft"
    assert made["audience"] == PRO and made["rules"] == PRICING
    assert made["body_html"] == "<p><strong>Pro</strong> tips &lt;script&gt;x()&lt;/script&gt;</p>"
    assert api.get(f"/messages/{made['id']}").json() == made
    assert [m["id"] for m in api.get("/messages").json()] == [made["id"]]
    assert api.get("/messages?channel=email").json() == []


def test_links_keep_only_safe_schemes_and_get_noopener(api) -> None:
    made = new_message(api, body="[a](javascript:alert(1)) [b](https://x.example/) [c](data:x)")
    html = made["body_html"]
    assert "javascript:" not in html.replace("(javascript:", "") and 'href="data' not in html
    assert '<a href="https://x.example/" rel="noopener noreferrer">b</a>' in html


def test_a_live_attribute_in_the_audience_is_a_422(api) -> None:
    r = api.post("/messages", {"channel": "in_app", "body": "x", "audience": PRICING})
    assert r.status_code == 422
    assert error_of(r)["code"] == "live_attribute"


def test_a_stored_attribute_in_the_rules_is_a_422(api, plan) -> None:
    r = api.post("/messages", {"channel": "in_app", "body": "x", "rules": PRO})
    assert r.status_code == 422
    err = error_of(r)
    assert err["code"] == "stored_attribute" and err["field"] == "rules.attribute"
    assert "plan" in err["message"]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"attribute": "time_on_current_page", "op": "gte", "value": "30"}, "rules.value"),
        ({"attribute": "time_on_current_page", "op": "contains", "value": 3}, "rules.op"),
        ({"attribute": "interacted_in_current_session", "op": "eq", "value": 1}, "rules.value"),
        ({"and": []}, "rules"),
        ({"attribute": "nope", "op": "eq", "value": 1}, "rules.attribute"),
    ],
)
def test_bad_rules_name_what_is_wrong(api, rules, field) -> None:
    r = api.post("/messages", {"channel": "in_app", "body": "x", "rules": rules})
    assert r.status_code == 422, r.content
    assert error_of(r)["field"] == field


def test_status_moves_draft_live_paused_archived_and_no_further(api) -> None:
    made = new_message(api)
    url = f"/messages/{made['id']}"
    assert api.patch(url, {"status": "live"}).json()["status"] == "live"
    assert api.patch(url, {"status": "paused"}).json()["status"] == "paused"
    assert api.patch(url, {"status": "live"}).json()["status"] == "live"
    assert api.patch(url, {"status": "archived"}).json()["status"] == "archived"
    r = api.patch(url, {"status": "live"})
    assert r.status_code == 409 and error_of(r)["code"] == "message_archived"
    assert api.patch(url, {"title": "new"}).status_code == 409


def test_a_message_without_a_body_cannot_go_live(api) -> None:
    made = new_message(api, body="")
    r = api.patch(f"/messages/{made['id']}", {"status": "live"})
    assert r.status_code == 422 and error_of(r)["field"] == "body"


def test_email_messages_take_a_subject_and_no_rules(api) -> None:
    r = api.post("/messages", {"channel": "email", "body": "x", "rules": PRICING})
    assert r.status_code == 422 and error_of(r)["field"] == "rules"
    r = api.post("/messages", {"channel": "email", "body": "x", "status": "live"})
    assert r.status_code == 422 and error_of(r)["field"] == "subject"
    r = api.post("/messages", {"channel": "sms", "body": "x"})
    assert r.status_code == 422 and error_of(r)["field"] == "channel"


def test_a_live_message_cannot_be_deleted_until_paused(api) -> None:
    made = new_message(api, status="live")
    url = f"/messages/{made['id']}"
    assert api.delete(url).status_code == 409
    api.patch(url, {"status": "paused"})
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_a_segment_a_live_message_uses_cannot_be_deleted(api, plan) -> None:
    seg = api.post("/segments", {"name": "Pro", "filter": PRO}).json()
    made = new_message(api, audience={"segment": seg["id"]}, status="live")
    r = api.delete(f"/segments/{seg['id']}")
    assert r.status_code == 409
    assert f"({made['id']})" in error_of(r)["message"]
    api.patch(f"/messages/{made['id']}", {"status": "archived"})
    assert api.delete(f"/segments/{seg['id']}").status_code == 204


def test_stats_start_at_zero(api) -> None:
    made = new_message(api)
    stats = api.get(f"/messages/{made['id']}/stats").json()
    assert stats == {
        "sent": 0,
        "shown": 0,
        "dismissed": 0,
        "clicked": 0,
        "unsubscribed": 0,
        "failed": 0,
        "skipped": 0,
        "pending": 0,
    }


def test_ends_before_start_is_a_422(api) -> None:
    r = api.post(
        "/messages",
        {"channel": "in_app", "body": "x", "starts_at": "2030-01-02", "ends_at": "2030-01-01"},
    )
    assert r.status_code == 422 and error_of(r)["field"] == "ends_at"


@pytest.mark.parametrize("when", ["0001-01-01", "10000-01-01", True, [1]])
def test_a_schedule_date_out_of_range_or_not_a_date_is_a_422(api, when) -> None:
    r = api.post("/messages", {"channel": "in_app", "body": "x", "starts_at": when})
    assert r.status_code == 422, r.content


def test_a_start_that_is_no_date_is_a_422_naming_the_field(api) -> None:
    r = api.post("/messages", {"channel": "in_app", "body": "x", "starts_at": "someday"})
    assert r.status_code == 422
    assert error_of(r)["field"] == "starts_at"
