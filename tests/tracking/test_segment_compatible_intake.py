"""A site or backend already using Segment points the official client at Pavior."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from pavior.people.models import AttributeDefinition, Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import create_workspace
from tests.conftest import error_of
from tests.tracking.conftest import post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ws(transactional_db):
    return create_workspace("Acme")


def _client(served, key, errors):
    """The official Segment client (segment-analytics-python) pointed at Pavior."""
    return Client(
        write_key=key,
        host=served.url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda e, batch: errors.append(e),
    )


def test_identify_with_a_secret_key_maps_segment_traits(served, ws):
    errors: list = []
    seg = _client(served, ws.api_key, errors)
    seg.identify(
        "u1",
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@x.io",
            "phone": "+44 1",
            "address": {"city": "London", "country": "United Kingdom"},
            "createdAt": "2023-02-01T10:00:00Z",
            "plan": "pro",
            "company": {"name": "Analytical Engines"},
            "tags": ["a", "b"],
        },
    )
    seg.track("u1", "Ordered", {"total": 3})
    assert errors == []
    p = Person.objects.get(workspace=ws.workspace, external_id="u1")
    assert (p.first_name, p.last_name, p.name, p.email, p.phone) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
        "ada@x.io",
        "+44 1",
    )
    assert (p.city, p.country) == ("London", "United Kingdom")
    assert p.signed_up_at == datetime(2023, 2, 1, 10, tzinfo=UTC)
    assert p.custom == {"plan": "pro"}
    assert not AttributeDefinition.objects.filter(name__in=["company", "tags"]).exists()
    # With a secret key, identify and track are other activity: no visit.
    assert (p.total_visits, p.last_seen_at) == (0, None)
    assert p.last_activity_at is not None
    assert RawEvent.objects.filter(person=p, website=False).count() == 2


def test_page_calls_are_website_activity_and_timestamps_are_honoured(served, ws):
    errors: list = []
    seg = _client(served, ws.workspace.app_id, errors)
    start = datetime.now(UTC) - timedelta(minutes=10)
    seg.page("u2", name="Home", properties={"url": "https://s.io/"}, timestamp=start)
    seg.page(
        "u2",
        name="Pricing",
        properties={"url": "https://s.io/pricing"},
        timestamp=start + timedelta(seconds=40),
    )
    seg.identify("u2", {"createdAt": "2020-01-01", "plan": "free"})
    assert errors == []
    p = Person.objects.get(external_id="u2")
    assert p.total_visits == 1
    # The identify (browser trust: website activity) came later, at "now".
    assert p.total_time_spent >= 40
    assert p.signed_up_at is None  # createdAt needs a secret key
    assert p.custom == {"plan": "free"}


def test_a_retried_message_is_stored_once(served, ws):
    errors: list = []
    seg = _client(served, ws.api_key, errors)
    for _ in range(2):
        seg.track("u3", "Clicked", message_id="m-1")
    assert errors == []
    assert RawEvent.objects.filter(message_id="m-1").count() == 1


def test_a_wrong_write_key_is_refused(served, ws):
    seg = _client(served, "sk_wrong", [])
    with pytest.raises(APIError) as raised:
        seg.identify("u4", {"plan": "x"})
    assert raised.value.status == 401
    assert not Person.objects.exists()


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def test_bad_requests_get_json_errors_on_every_endpoint(served, ws):
    auth = _basic(ws.api_key)
    for path in ("/v1/batch", "/v1/identify", "/v1/track", "/v1/page", "/v1/screen"):
        huge = post(served, path, b'{"batch": ["' + b"x" * 10_000_000 + b'"]}', **auth)
        assert huge.status_code == 413, path
        assert error_of(huge)["code"] == "too_large"
        broken = post(served, path, "{nope", **auth)
        assert broken.status_code == 400 and "JSON" in error_of(broken)["message"], path
        got = httpx.get(served.url + path)
        assert got.status_code == 405 and got.headers["Allow"] == "POST, OPTIONS", path
        assert error_of(got)["code"] == "method_not_allowed"
    bad_batch = post(served, "/v1/batch", json.dumps({"batch": {"type": "track"}}), **auth)
    assert bad_batch.status_code == 400 and error_of(bad_batch)["field"] == "batch"
    no_key = post(served, "/v1/identify", json.dumps({"userId": "u1", "traits": {}}))
    assert no_key.status_code == 401 and error_of(no_key)["code"] == "unauthorized"
    only_anonymous = {"batch": [{"type": "track", "anonymousId": "a1", "event": "Seen"}]}
    wrong = post(served, "/v1/batch", json.dumps(only_anonymous), **_basic("sk_wrong"))
    assert wrong.status_code == 401  # even with nothing to record
    ok = post(served, "/v1/batch", json.dumps(only_anonymous), **auth)
    assert ok.status_code == 200 and ok.json()["accepted"] == 0
    assert [w["field"] for w in ok.json()["warnings"]] == ["userId"]
    assert not Person.objects.exists() and not RawEvent.objects.exists()


def test_a_batch_of_several_users_stores_each_of_them(served, ws):
    calls = [
        {"type": "identify", "userId": f"u{i}", "traits": {"plan": "pro"}, "messageId": f"m{i}"}
        for i in range(3)
    ] + [{"type": "track", "userId": "u0", "event": "Paid", "messageId": "m-paid"}]
    r = post(served, "/v1/batch", json.dumps({"batch": calls}), **_basic(ws.api_key))
    assert r.status_code == 200, r.text
    assert (r.json()["success"], r.json()["accepted"], r.json()["duplicates"]) == (True, 4, 0)
    custom = dict(Person.objects.values_list("external_id", "custom"))
    assert custom == {f"u{i}": {"plan": "pro"} for i in range(3)}
    again = post(served, "/v1/batch", json.dumps({"batch": calls}), **_basic(ws.api_key))
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 4)


def test_many_concurrent_clients_are_all_stored(served, ws):
    """Every call goes through the one writer, so concurrent clients do not
    collide on the database (SQLite answered 'database is locked' before)."""

    def client_calls(n: int) -> list:
        errors: list = []
        seg = _client(served, ws.api_key, errors)
        for k in range(5):
            seg.identify(f"c{n}", {"plan": f"p{k}"}, message_id=f"c{n}-{k}")
        return errors

    with ThreadPoolExecutor(max_workers=20) as pool:
        errors = [e for found in pool.map(client_calls, range(20)) for e in found]
    assert errors == []
    assert RawEvent.objects.count() == 100
    assert Person.objects.count() == 20
    # Each client's calls were sequential: its last one is what the user holds.
    assert all(p.custom == {"plan": "p4"} for p in Person.objects.all())
