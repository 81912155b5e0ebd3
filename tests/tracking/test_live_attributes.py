"""Live attributes while the user is on the site, gone when the visit ends.

Each test runs on every cache backend of CACHE_BACKENDS: local memory, the
SQLite file, and Redis when REDIS_URL is set (CI sets it)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pavior.tracking.live import get_live_attributes
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, minutes, post_batch

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("cache_backend"),
]


def _send(served, workspace, clock, *events):
    r = post_batch(served, workspace.app_id, {"id": "u1"}, list(events), sent_at=clock.now())
    assert r.status_code == 200, r.content


def test_live_attributes_follow_the_visit(served, workspace, api, fake_clock):
    assert api.get("/users/u1/live").status_code == 404
    _send(
        served,
        workspace,
        fake_clock,
        event("init", T0, url="https://s.io/"),
        event("page", T0, url="https://s.io/"),
    )
    fake_clock.advance(10)
    live = api.get("/users/u1/live").json()
    assert live == {
        "time_on_current_page": 10.0,
        "current_page_url": "https://s.io/",
        "current_session_duration": 10.0,
        "interacted_in_current_session": False,
    }
    fake_clock.advance(20)
    _send(
        served,
        workspace,
        fake_clock,
        event("page", fake_clock.now(), url="https://s.io/pricing"),
        event("interaction", fake_clock.now(), url="https://s.io/pricing"),
    )
    fake_clock.advance(5)
    live = get_live_attributes(workspace.pk, "u1")
    assert live == {
        "time_on_current_page": 5.0,
        "current_page_url": "https://s.io/pricing",
        "current_session_duration": 35.0,
        "interacted_in_current_session": True,
    }


def test_an_unattended_tab_stops_counting_after_the_heartbeat_window(served, workspace, fake_clock):
    _send(served, workspace, fake_clock, event("page", T0, url="https://s.io/"))
    fake_clock.advance(600)
    assert get_live_attributes(workspace.pk, "u1")["time_on_current_page"] == 15.0


def test_they_expire_30_minutes_after_the_last_activity(served, workspace, api, fake_clock):
    _send(served, workspace, fake_clock, event("page", T0, url="https://s.io/"))
    fake_clock.current = T0 + minutes(29) + timedelta(seconds=59)
    assert get_live_attributes(workspace.pk, "u1") is not None
    fake_clock.current = T0 + minutes(30)
    assert get_live_attributes(workspace.pk, "u1") is None
    r = api.get("/users/u1/live")
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"


def test_a_new_visit_starts_fresh(served, workspace, fake_clock):
    _send(
        served,
        workspace,
        fake_clock,
        event("page", T0, url="https://s.io/a"),
        event("interaction", T0, url="https://s.io/a"),
    )
    fake_clock.current = T0 + minutes(45)
    _send(served, workspace, fake_clock, event("page", fake_clock.now(), url="https://s.io/a"))
    live = get_live_attributes(workspace.pk, "u1")
    assert live["interacted_in_current_session"] is False
    assert live["current_session_duration"] == 0.0


def test_shutdown_forgets_the_user(served, workspace, fake_clock):
    _send(served, workspace, fake_clock, event("page", T0, url="https://s.io/"))
    _send(served, workspace, fake_clock, event("shutdown", T0))
    assert get_live_attributes(workspace.pk, "u1") is None


def test_live_reads_are_scoped_to_the_workspace(served, client, workspace, fake_clock):
    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other")
    _send(served, workspace, fake_clock, event("page", T0, url="https://s.io/"))
    from tests.conftest import ApiClient

    r = ApiClient(client=client, key=other.api_key).get("/users/u1/live")
    assert r.status_code == 404
