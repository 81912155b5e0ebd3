"""The intake as served (pavior.asgi under uvicorn): concurrent requests and
the group-commit writer.

The writer thread stores the batches on its own database connection and
commits them; what a test reads back from its own connection is therefore
what was committed.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest

from pavior.core.identity import user_hash
from pavior.people.models import Person
from pavior.tracking.live import get_live_attributes
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import update_workspace_settings
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, minutes, ms
from tests.tracking.test_storage_failure import _break_storage, _repair_storage

pytestmark = pytest.mark.django_db(transaction=True)


def serve(served: Any, *requests: dict[str, Any]) -> list[httpx.Response]:
    """Send the requests concurrently to the served application; their responses."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests))
        async with httpx.AsyncClient(base_url=served.url, limits=limits, timeout=60) as c:
            return list(await asyncio.gather(*(c.request(**r) for r in requests)))

    return asyncio.run(run())


def track(app_id: str, user: dict[str, Any], events: list[dict[str, Any]], **kw: Any) -> dict:
    body = {"app_id": app_id, "user": user, "events": events, "sent_at": ms(T0)}
    return {"method": "POST", "url": "/api/v1/track", "content": json.dumps(body), **kw}


def test_a_batch_is_acknowledged_once_committed(served, workspace, fake_clock):
    events = [event("page", T0, url="https://shop.example/"), event("heartbeat", T0)]
    (r,) = serve(served, track(workspace.app_id, {"id": "u1", "email": "a@x.io"}, events))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": 2,
        "duplicates": 0,
        "verified": False,
        "errors": [],
        "warnings": [],
    }
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    p = Person.objects.get(workspace=workspace, external_id="u1")
    assert (p.email, p.total_visits, p.last_seen_at) == ("a@x.io", 1, T0)
    assert RawEvent.objects.filter(person=p).count() == 2
    live = get_live_attributes(workspace.pk, "u1")
    assert live is not None and live["current_page_url"] == "https://shop.example/"
    (again,) = serve(served, track(workspace.app_id, {"id": "u1"}, events))
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)


def test_concurrent_batches_share_flushes_and_store_each_message_once(
    served, workspace, fake_clock
):
    app = workspace.app_id
    shared = [event("page", T0, message_id=f"shared-{i}") for i in range(3)]
    requests = [track(app, {"id": "u1"}, shared) for _ in range(10)]
    requests += [track(app, {"id": f"user{i}"}, [event("page", T0)]) for i in range(30)]
    responses = serve(served, *requests)
    assert [r.status_code for r in responses] == [200] * 40
    assert sum(r.json()["accepted"] for r in responses[:10]) == 3
    assert sum(r.json()["duplicates"] for r in responses[:10]) == 27
    assert RawEvent.objects.count() == 33
    assert Person.objects.count() == 31
    assert Person.objects.get(external_id="u1").total_visits == 1


def test_a_late_event_recomputes_and_nothing_moves_backwards(served, workspace, fake_clock):
    app = workspace.app_id
    serve(served, track(app, {"id": "u1"}, [event("page", T0)]))
    late = [event("page", T0 - minutes(60))]  # an hour earlier: a visit of its own
    (r,) = serve(served, track(app, {"id": "u1"}, late))
    assert r.status_code == 200 and r.json()["accepted"] == 1
    p = Person.objects.get(external_id="u1")
    assert (p.total_visits, p.last_seen_at, p.last_activity_at) == (2, T0, T0)


def test_refusals_name_the_problem(served, new_workspace, fake_clock):
    ws = new_workspace.workspace
    app = ws.app_id
    bomb = gzip.compress(b'{"pad": "' + b" " * 2_000_000 + b'"}')
    big = [event(attributes={"notes": "x" * 20_000}) for _ in range(30)]
    bad_json, bad_type, unknown, too_big, gz_bomb, preflight, get = serve(
        served,
        {"method": "POST", "url": "/api/v1/track", "content": "{nope"},
        track(app, {"id": "u"}, [event("explode")]),
        track("app_nope", {"id": "u"}, [event()]),
        track(app, {"id": "u"}, big),
        {
            "method": "POST",
            "url": "/api/v1/track",
            "content": bomb,
            "headers": {"Content-Encoding": "gzip"},
        },
        {"method": "OPTIONS", "url": "/api/v1/track"},
        {"method": "GET", "url": "/api/v1/track"},
    )
    assert bad_json.status_code == 400 and "JSON" in error_of(bad_json)["message"]
    assert bad_type.status_code == 400 and error_of(bad_type)["field"] == "events[0].type"
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "unknown_app_id"
    assert too_big.status_code == 413
    assert gz_bomb.status_code == 413 and "inflated" in error_of(gz_bomb)["message"]
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert get.status_code == 405 and get.headers["Allow"] == "POST, OPTIONS"
    assert all(r.headers["Access-Control-Allow-Origin"] == "*" for r in (bad_json, unknown))
    update_workspace_settings(ws, {"identity_verification": "required"})
    refused, allowed = serve(
        served,
        track(app, {"id": "u1", "user_hash": "0" * 64}, [event("page", T0)]),
        track(
            app,
            {"id": "u2", "user_hash": user_hash(new_workspace.identity_secret, "u2")},
            [event("page", T0)],
        ),
    )
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "identity_verification_failed"
    assert allowed.status_code == 200 and allowed.json()["verified"] is True
    assert list(Person.objects.values_list("external_id", flat=True)) == ["u2"]


def test_a_storage_failure_is_503_for_the_flush_and_the_retry_is_stored_once(
    served, workspace, fake_clock
):
    events = [event("init", T0, attributes={"plan": "pro"}), event("page", T0)]
    _break_storage()
    first = serve(served, *(track(workspace.app_id, {"id": f"u{i}"}, events) for i in range(3)))
    assert [r.status_code for r in first] == [503] * 3
    assert all(r.headers["Retry-After"].isdigit() for r in first)
    assert error_of(first[0])["code"] == "unavailable"
    assert not Person.objects.exists()
    _repair_storage()
    for _ in range(2):
        (r,) = serve(served, track(workspace.app_id, {"id": "u1"}, events))
        assert r.status_code == 200
    assert RawEvent.objects.count() == 2
    p = Person.objects.get(external_id="u1")
    assert (p.total_visits, p.custom) == (1, {"plan": "pro"})


def test_every_other_path_is_still_django(served, db):
    (r,) = serve(served, {"method": "GET", "url": "/pavior.js"})
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "public, max-age=3600"
