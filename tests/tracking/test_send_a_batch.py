"""The snippet's batch endpoint: acknowledged once stored, each message once, CORS, limits."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, minutes, post, post_batch

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_batch_is_stored_and_moves_the_derived_attributes(served, workspace, fake_clock):
    events = [event("init", T0), event("page", T0, url="https://shop.example/")]
    r = post_batch(served, workspace.app_id, {"id": "u1", "email": "a@x.io"}, events, sent_at=T0)
    assert r.status_code == 200, r.content
    assert r.json()["accepted"] == 2
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    p = Person.objects.get(workspace=workspace, external_id="u1")
    assert (p.email, p.total_visits, p.last_seen_at, p.last_activity_at) == ("a@x.io", 1, T0, T0)
    assert RawEvent.objects.filter(person=p).count() == 2


def test_a_retried_batch_changes_nothing(served, workspace, fake_clock):
    events = [event("page", T0), event("heartbeat", T0 + minutes(0.25))]
    user = {"id": "u1"}
    fake_clock.advance(30)
    first = post_batch(served, workspace.app_id, user, events, sent_at=fake_clock.now())
    again = post_batch(served, workspace.app_id, user, events, sent_at=fake_clock.now())
    assert first.json()["accepted"] == 2
    assert again.json() | {"accepted": 0} == again.json()
    assert again.json()["duplicates"] == 2
    p = Person.objects.get(external_id="u1")
    assert (p.total_visits, p.total_time_spent) == (1, 15.0)
    assert RawEvent.objects.count() == 2


def test_preflight_is_answered_for_any_origin(served):
    r = httpx.options(
        served.url + "/api/v1/track",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_another_site_posts_without_cookies_or_csrf_token(served, workspace, fake_clock):
    headers = {"Origin": "https://shop.example", "Referer": "https://shop.example/"}
    user, events = {"id": "u1"}, [event("page", T0)]
    r = post_batch(served, workspace.app_id, user, events, sent_at=T0, headers=headers)
    assert r.status_code == 200, r.text
    assert "set-cookie" not in r.headers


def test_another_method_is_a_json_405_naming_the_allowed_ones(served, db):
    r = httpx.get(served.url + "/api/v1/track")
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST, OPTIONS"
    assert error_of(r)["code"] == "method_not_allowed"


def _check_400(r: Any, words: str) -> None:
    assert r.status_code == 400, r.content
    assert words in error_of(r)["message"]


def test_schema_errors_name_the_problem_and_write_nothing(served, workspace, fake_clock):
    app = workspace.app_id
    _check_400(post(served, "/api/v1/track", "{nope"), "JSON")
    _check_400(post_batch(served, "", {"id": "u"}, [event()]), "app_id")
    _check_400(post_batch(served, app, {}, [event()]), "id or an email")
    _check_400(post_batch(served, app, {"id": "u"}, []), "events")
    _check_400(post_batch(served, app, {"id": "u"}, [{"type": "page"}]), "message_id")
    _check_400(post_batch(served, app, {"id": "u"}, [event("explode")]), "type")
    _check_400(post_batch(served, app, {"id": "u"}, [event(at="yesterday-ish")]), "at")
    _check_400(post_batch(served, app, {"id": "u"}, [event(), event(attributes=[1])]), "attributes")
    assert not Person.objects.exists()
    assert not RawEvent.objects.exists()


def test_an_unknown_app_id_is_a_404(served, db):
    r = post_batch(served, "app_nope", {"id": "u"}, [event()])
    assert r.status_code == 404
    assert error_of(r)["field"] == "app_id"


def test_gzip_bodies_are_accepted(served, workspace, fake_clock):
    body = {"app_id": workspace.app_id, "user": {"id": "u1"}, "events": [event("page", T0)]}
    compressed = gzip.compress(json.dumps(body).encode())
    r = post(served, "/api/v1/track", compressed, **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.content
    assert r.json()["accepted"] == 1


def test_size_limits_are_413(served, workspace, fake_clock):
    app = workspace.app_id
    big_event = event(attributes={"notes": "x" * 33_000})
    assert post_batch(served, app, {"id": "u"}, [big_event]).status_code == 413
    many = [event(attributes={"notes": "x" * 20_000}) for _ in range(30)]  # ~600 KB
    assert post_batch(served, app, {"id": "u"}, many).status_code == 413
    huge = post(served, "/api/v1/track", b"x" * 10_000_000)  # read no further than the cap
    assert huge.status_code == 413 and error_of(huge)["code"] == "too_large"
    bomb = gzip.compress(b'{"pad": "' + b" " * 2_000_000 + b'"}')
    r = post(served, "/api/v1/track", bomb, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413
    assert "inflated" in error_of(r)["message"]
    assert not RawEvent.objects.exists()
