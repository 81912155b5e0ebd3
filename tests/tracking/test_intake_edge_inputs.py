"""Edge inputs at the served intake (pavior.asgi under uvicorn): each is a clear
4xx that the snippet drops, or it works; never a 5xx that it would retry forever."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, ms

pytestmark = pytest.mark.django_db(transaction=True)

DEEP = "[" * 3000 + "]" * 3000


def _post(served: Any, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, str | bytes) else json.dumps(body)
    return httpx.post(served.url + path, content=content, headers=headers, timeout=30)


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _track(app_id: str, events: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"app_id": app_id, "user": {"id": "u1"}, "events": events, **extra}


@pytest.mark.parametrize(
    "path,wrap",
    [
        ("/api/v1/track", lambda app, deep: f'{{"app_id": "{app}", "user": {deep}}}'),
        ("/v1/batch", lambda app, deep: f'{{"writeKey": "{app}", "batch": {deep}}}'),
        ("/v1/identify", lambda app, deep: f'{{"writeKey": "{app}", "traits": {deep}}}'),
    ],
)
def test_deep_nesting_is_a_400_on_every_intake(served, workspace, path, wrap):
    r = _post(served, path, wrap(workspace.app_id, DEEP))
    assert r.status_code == 400, r.text
    assert "nested" in error_of(r)["message"]


def test_deep_nesting_is_a_400_on_the_rest_api(served, new_workspace):
    auth = {"Authorization": f"Bearer {new_workspace.api_key}", "Content-Type": "application/json"}
    for method, path, body in [
        ("PUT", "/api/v1/users/u1", '{"plan": ' + DEEP + "}"),
        ("POST", "/api/v1/users", '{"id": "u1", "plan": ' + DEEP + "}"),
        ("POST", "/api/v1/users/search", '{"filter": ' + DEEP + "}"),
        ("POST", "/api/v1/users/count", DEEP),
    ]:
        r = httpx.request(method, served.url + path, content=body, headers=auth, timeout=30)
        assert r.status_code == 400, (path, r.text)
        assert "nested more than" in error_of(r)["message"], path
    assert not Person.objects.exists()


def test_ordinary_nesting_is_still_accepted(served, workspace, fake_clock):
    context = {"page": {"url": "https://s.io/"}, "traits": {"a": {"b": {"c": [1, [2]]}}}}
    body = {
        "writeKey": workspace.app_id,
        "batch": [{"type": "page", "userId": "u1", "messageId": "m1", "context": context}],
    }
    r = _post(served, "/v1/batch", body)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "where",
    ["attribute value", "attribute name", "url", "user id", "message id"],
)
def test_a_nul_character_is_a_400_on_both_databases(served, workspace, fake_clock, where):
    e = event("page", T0, url="https://s.io/")
    user = {"id": "u1"}
    if where == "attribute value":
        e["attributes"] = {"plan": "pro\u0000"}
    elif where == "attribute name":
        e["attributes"] = {"pl\u0000an": "pro"}
    elif where == "url":
        e["url"] = "https://s.io/\u0000"
    elif where == "user id":
        user = {"id": "u\u00001"}
    else:
        e["message_id"] = "m\u0000"
    body = {"app_id": workspace.app_id, "user": user, "events": [e], "sent_at": ms(T0)}
    r = _post(served, "/api/v1/track", body)
    assert r.status_code == 400, r.text  # not 503: the snippet would retry it forever
    assert "NUL" in error_of(r)["message"]
    assert "retry-after" not in r.headers
    assert not RawEvent.objects.exists() and not Person.objects.exists()


def test_a_nul_character_in_a_segment_call_is_a_400(served, workspace):
    body = {"writeKey": workspace.app_id, "userId": "u1", "traits": {"name": "A\u0000"}}
    r = _post(served, "/v1/identify", body)
    assert r.status_code == 400, r.text
    assert not Person.objects.exists()


def test_clock_at_year_one_with_an_event_at_9999_is_no_5xx(served, workspace, fake_clock):
    body = _track(
        workspace.app_id,
        [event("page", "9999-12-31T23:59:59Z", url="https://s.io/")],
        sent_at="0001-01-01T00:00:00Z",
    )
    r = _post(served, "/api/v1/track", body)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:  # taken: the event is placed at receipt, never later
        assert Person.objects.get(external_id="u1").last_seen_at == T0
    else:
        assert error_of(r)["field"]


def test_segment_calls_without_message_id_are_each_recorded(served, workspace, fake_clock):
    """Two identical real calls count twice: a missing messageId gets a new id."""
    call = {"type": "track", "userId": "u1", "event": "Clicked", "timestamp": "2024-05-01T11:00Z"}
    for _ in range(2):
        r = _post(served, "/v1/batch", {"batch": [call]}, Authorization=_basic(workspace.app_id))
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 1
    assert RawEvent.objects.filter(person__external_id="u1").count() == 2


def test_a_retry_with_its_message_id_is_stored_once(served, workspace, fake_clock):
    call = {"type": "track", "userId": "u1", "event": "Clicked", "messageId": "m-1"}
    for _ in range(2):
        r = _post(served, "/v1/batch", {"batch": [call]}, Authorization=_basic(workspace.app_id))
        assert r.status_code == 200, r.text
    assert RawEvent.objects.filter(person__external_id="u1").count() == 1


def test_server_clock_calls_thirty_minutes_apart_are_two_visits(served, new_workspace, fake_clock):
    """A server client with a correct clock: transit time (2 s, then 1 s) is not
    skew, so page calls exactly 30:00 apart stay two visits (SPEC §3)."""
    key = _basic(new_workspace.api_key)
    first = T0
    for at, transit in ((first, 2), (first + timedelta(minutes=30), 1)):
        fake_clock.current = at + timedelta(seconds=transit)
        call = {
            "type": "page",
            "userId": "u1",
            "timestamp": at.isoformat(),
            "sentAt": at.isoformat(),
            "properties": {"url": "https://s.io/"},
        }
        r = _post(served, "/v1/page", call, Authorization=key)
        assert r.status_code == 200, r.text
    p = Person.objects.get(workspace=new_workspace.workspace, external_id="u1")
    assert p.total_visits == 2
    assert p.last_seen_at == first + timedelta(minutes=30)


def test_browser_segment_calls_cannot_set_city_or_country(served, workspace, fake_clock):
    traits = {"email": "a@x.io", "address": {"city": "Paris", "country": "France"}}
    body = {"userId": "u1", "traits": traits, "messageId": "m1"}
    r = _post(served, "/v1/identify", body, Authorization=_basic(workspace.app_id))
    assert r.status_code == 200, r.text
    assert any(w["field"] == "address" for w in r.json()["warnings"])
    p = Person.objects.get(external_id="u1")
    assert (p.email, p.city, p.country) == ("a@x.io", None, None)


def test_the_secret_api_may_seed_city_and_country(api):
    r = api.put("/users/u1", {"city": "Lyon", "country": "France"})
    assert r.status_code == 201, r.content
    assert (r.json()["city"], r.json()["country"]) == ("Lyon", "France")
