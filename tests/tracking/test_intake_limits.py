"""Edges of reading a batch that the fast paths must not change."""

from __future__ import annotations

import json

import pytest

from pavior.tracking.intake import MAX_EVENT_BYTES, SMALL_BODY, check_event_size
from pavior.tracking.models import RawEvent
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, post

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_body_too_small_to_hold_an_oversized_event_cannot_hold_one():
    # The worst case for re-serialising: short floats that come back long.
    numbers = ",".join(["9e15"] * ((SMALL_BODY - 40) // 5))
    body = f'{{"message_id":"m","type":"page","n":[{numbers}]}}'
    assert len(body) <= SMALL_BODY
    raw = json.loads(body)
    check_event_size(raw, "events[0]")  # does not raise
    serialised = json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(serialised) <= MAX_EVENT_BYTES


def test_an_unpaired_surrogate_is_a_400_not_a_500(served, workspace, fake_clock):
    e = event("page", T0)
    body = json.dumps({"app_id": workspace.app_id, "user": {"id": "u1"}, "events": [e]})
    body = body.replace('"type": "page"', '"type": "page", "url": "https://x.io/\\ud83d"')
    assert "\\ud83d" in body
    r = post(served, "/api/v1/track", body)
    assert r.status_code == 400
    assert "surrogate" in error_of(r)["message"]
    pair = body.replace("\\ud83d", "\\ud83d\\ude00")  # a whole pair is an emoji: fine
    assert post(served, "/api/v1/track", pair).status_code == 200
    assert RawEvent.objects.get().data == {"url": "https://x.io/\U0001f600"}
