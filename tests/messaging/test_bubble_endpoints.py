"""The bubble's server side through the served application (SPEC §12, §6, §7):
candidates in tracking answers, show once per user, dismiss and click once,
the panel, resubscribe, and refusals that are clear 4xx."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pavior.core.identity import user_hash
from pavior.messaging.actions import update_message
from pavior.messaging.models import Delivery, SubscriptionChange
from pavior.messaging.queries import message_stats
from pavior.people.actions import create_attribute
from pavior.people.models import Person
from pavior.workspaces.actions import (
    create_identity_secret,
    create_workspace,
    update_workspace_settings,
)
from tests.conftest import error_of
from tests.messaging.conftest import PRICING, live_message, messenger, track

pytestmark = pytest.mark.django_db(transaction=True)

ADA = {"id": "ada"}


@pytest.fixture
def ws() -> Any:
    """Verification off: every session may read its user's messages (the
    default, `optional`, is tested on its own below)."""
    workspace = create_workspace("Acme").workspace
    return update_workspace_settings(workspace, {"identity_verification": "off"})


@pytest.fixture
def plan(ws: Any) -> Any:
    return create_attribute(ws, "plan", "string")


def seen(served: Any, ws: Any, user: dict[str, Any] = ADA, **kw: Any) -> dict[str, Any]:
    r = track(served, ws.app_id, user, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def test_tracking_answers_carry_candidates_once_per_version(served: Any, ws: Any) -> None:
    m = live_message(ws, rules=PRICING)
    first = seen(served, ws)["messages"]
    assert first["candidates"] == [{"id": m.pk, "kind": "announcement", "rules": PRICING}]
    assert first["launcher"] is True
    # The snippet sends the version it has: unchanged, nothing comes back.
    assert "messages" not in seen(served, ws, version=first["version"])
    # A batch that does not ask (a Segment call, an older snippet) gets nothing.
    assert "messages" not in seen(served, ws, ask=False)
    # A new live message changes the set and its version.
    m2 = live_message(ws, kind="chat", title="", sender_name="Ada Team")
    again = seen(served, ws, version=first["version"])["messages"]
    assert again["version"] != first["version"]
    assert {c["id"] for c in again["candidates"]} == {m.pk, m2.pk}


def test_show_records_one_display_and_returns_sanitised_content(served: Any, ws: Any) -> None:
    m = live_message(
        ws,
        kind="chat",
        title="",
        sender_name="Grace Hopper",
        body="<script>alert(1)</script> [x](javascript:alert(2)) [ok](https://a.example/)",
    )
    seen(served, ws)
    r = messenger(served, "show", ws.app_id, ADA, message_id=m.pk)
    assert r.status_code == 200, r.text
    shown = r.json()["message"]
    assert shown["kind"] == "chat" and shown["sender_name"] == "Grace Hopper"
    assert shown["initials"] == "GH"
    assert "<script>" not in shown["body_html"] and 'href="javascript' not in shown["body_html"]
    assert '<a href="https://a.example/" rel="noopener noreferrer">ok</a>' in shown["body_html"]
    # Another tab or device asking: "already shown", and still one display.
    again = messenger(served, "show", ws.app_id, ADA, message_id=m.pk)
    assert again.status_code == 409 and error_of(again)["code"] == "already_shown"
    assert message_stats(m)["shown"] == 1
    # Shown: no longer a candidate.
    assert seen(served, ws)["messages"]["candidates"] == []


def test_dismiss_and_click_count_once_per_user(served: Any, ws: Any, api_for: Any) -> None:
    m = live_message(ws)
    seen(served, ws)
    assert messenger(served, "show", ws.app_id, ADA, message_id=m.pk).status_code == 200
    for _ in range(2):
        assert messenger(served, "click", ws.app_id, ADA, message_id=m.pk).status_code == 200
    first = messenger(served, "dismiss", ws.app_id, ADA, message_id=m.pk)
    assert first.json() == {"dismissed": True}
    assert messenger(served, "dismiss", ws.app_id, ADA, message_id=m.pk).json() == {
        "dismissed": False
    }
    stats = api_for(ws).get(f"/messages/{m.pk}/stats").json()
    assert (stats["shown"], stats["dismissed"], stats["clicked"]) == (1, 1, 1)


@pytest.fixture
def api_for(client: Any) -> Any:
    from pavior.workspaces.actions import create_api_key
    from tests.conftest import ApiClient

    def make(ws: Any) -> ApiClient:
        return ApiClient(client=client, key=create_api_key(ws))

    return make


def test_refusals_are_clear_4xx(served: Any, ws: Any, plan: Any) -> None:
    other = create_workspace("Other").workspace
    theirs = live_message(other)
    paused = live_message(ws)
    update_message(ws, paused.pk, {}, status="paused")
    pros = live_message(ws, audience={"attribute": "plan", "op": "eq", "value": "pro"})
    later = live_message(ws, starts_at="2999-01-01T00:00:00Z")
    seen(served, ws)

    def refused(message_id: Any, action: str = "show") -> dict[str, Any]:
        r = messenger(served, action, ws.app_id, ADA, message_id=message_id)
        assert 400 <= r.status_code < 500, (message_id, r.status_code, r.text)
        return {"status": r.status_code, **error_of(r)}

    assert refused(theirs.pk)["status"] == 404  # another workspace's: not found here
    assert refused(theirs.pk, "dismiss")["status"] == 404
    assert refused(paused.pk)["code"] == "message_not_live"
    assert refused(paused.pk, "dismiss")["code"] == "message_not_live"
    assert refused(pros.pk)["code"] == "not_in_audience"
    assert refused(pros.pk, "dismiss")["code"] == "not_in_audience"
    assert refused(later.pk)["code"] == "message_not_scheduled"
    assert refused(10**30)["field"] == "message_id"
    assert refused("7; drop table")["field"] == "message_id"
    assert Delivery.objects.count() == 0
    # Unknown users and app ids.
    r = messenger(served, "show", ws.app_id, {"id": "nobody"}, message_id=pros.pk)
    assert r.status_code == 404
    r = messenger(served, "messages", "app_nope", ADA)
    assert r.status_code == 404 and error_of(r)["field"] == "app_id"


def test_once_under_fifty_concurrent_shows(served: Any, ws: Any) -> None:
    m = live_message(ws)
    seen(served, ws)

    def ask(_: int) -> int:
        return messenger(served, "show", ws.app_id, ADA, message_id=m.pk).status_code

    with ThreadPoolExecutor(50) as pool:
        codes = list(pool.map(ask, range(50)))
    assert sorted(set(codes)) == [200, 409], codes
    assert codes.count(200) == 1
    assert Delivery.objects.filter(message=m).count() == 1
    assert message_stats(m)["shown"] == 1


def test_panel_lists_shown_messages_newest_first_and_the_subscription(served: Any, ws: Any) -> None:
    a = live_message(ws, title="First")
    b = live_message(ws, title="Second")
    live_message(ws, title="Never shown")
    seen(served, ws, user={"id": "ada", "email": "ada@example.com"})
    for m in (a, b):
        assert messenger(served, "show", ws.app_id, ADA, message_id=m.pk).status_code == 200
    panel = messenger(served, "messages", ws.app_id, ADA).json()
    assert [m["title"] for m in panel["messages"]] == ["Second", "First"]
    assert panel["email_subscription"] is True and panel["has_email"] is True
    assert all(m["shown_at"].endswith("Z") for m in panel["messages"])


def test_resubscribe_is_the_users_own_change(served: Any, ws: Any) -> None:
    from pavior.messaging.actions import change_subscription

    seen(served, ws, user={"id": "ada", "email": "ada@example.com"})
    person = Person.objects.get(workspace=ws, external_id="ada")
    change_subscription(person, False, source="unsubscribe_link")
    assert messenger(served, "messages", ws.app_id, ADA).json()["email_subscription"] is False
    r = messenger(served, "resubscribe", ws.app_id, ADA)
    assert r.status_code == 200 and r.json() == {"email_subscription": True, "changed": True}
    person.refresh_from_db()
    assert person.email_subscription is True
    last = SubscriptionChange.objects.filter(person=person).latest("at")
    assert (last.subscribed, last.source) == (True, "bubble")


def test_optional_verification_keeps_personal_messages_from_unverified_sessions(
    served: Any, ws: Any
) -> None:
    secret, _ = create_identity_secret(ws)
    update_workspace_settings(ws, {"identity_verification": "optional"})
    m = live_message(ws)
    unverified = seen(served, ws, user={"id": "bob"})["messages"]
    assert unverified == {"version": "unverified", "candidates": [], "launcher": False}
    for action, extra in (("show", {"message_id": m.pk}), ("messages", {}), ("resubscribe", {})):
        r = messenger(served, action, ws.app_id, {"id": "bob"}, **extra)
        assert r.status_code == 403, (action, r.text)
        assert error_of(r)["code"] == "identity_verification_failed"
    proven = {"id": "bob", "user_hash": user_hash(secret, "bob")}
    verified = seen(served, ws, user=proven)["messages"]
    assert [c["id"] for c in verified["candidates"]] == [m.pk]
    assert messenger(served, "show", ws.app_id, proven, message_id=m.pk).status_code == 200
    wrong = {"id": "bob", "user_hash": "0" * 64}
    assert messenger(served, "messages", ws.app_id, wrong).status_code == 403


def test_endpoints_speak_cors_and_refuse_other_methods(served: Any) -> None:
    import httpx

    url = served.url + "/api/v1/messenger/show"
    pre = httpx.options(url, headers={"Origin": "https://shop.example"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    got = httpx.get(url)
    assert got.status_code == 405 and got.headers["allow"] == "POST, OPTIONS"


def test_the_event_loop_form_reads_no_database(ws: Any, django_assert_num_queries: Any) -> None:
    """tracking_answer(cached_only=True) runs on the intake's event loop: it
    answers without a query or says NOT_CACHED (then a thread asks again)."""
    from pavior.messaging import delivery

    live_message(ws)
    person = Person.objects.create(workspace=ws, external_id="zed")
    optional = update_workspace_settings(
        create_workspace("Opt").workspace, {"identity_verification": "optional"}
    )
    with django_assert_num_queries(0):
        hidden = delivery.tracking_answer(optional, person, False, "", cached_only=True)
        current = delivery.tracking_answer(optional, person, False, "unverified", cached_only=True)
        first = delivery.tracking_answer(ws, person, False, "", cached_only=True)
    assert hidden == {"version": "unverified", "candidates": [], "launcher": False}
    assert current is None
    # Without a candidate cache to answer from, the thread form answers.
    assert first is delivery.NOT_CACHED or first["candidates"]
    answer = delivery.tracking_answer(ws, person, False, "")
    assert answer is not None and answer["launcher"] is True


def test_rate_limited_like_the_intake(served: Any, ws: Any, rate_limits: Any) -> None:
    seen(served, ws)
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS = 3
    codes = [messenger(served, "messages", ws.app_id, ADA) for _ in range(4)]
    assert [r.status_code for r in codes[:2]] == [200, 200]
    assert codes[-1].status_code == 429 and int(codes[-1].headers["retry-after"]) > 0
    assert error_of(codes[-1])["code"] == "rate_limited"
