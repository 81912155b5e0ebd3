"""Visits, time spent and last seen from website events (SPEC §3), with a controlled clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from pavior.cli import main
from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from tests.tracking.conftest import T0, event, minutes, post_batch

pytestmark = pytest.mark.django_db(transaction=True)


def _person(user_id: str = "u1") -> Person:
    return Person.objects.get(external_id=user_id)


def _send(served, workspace, clock, *times, user="u1", kind="heartbeat"):
    clock.current = max([clock.now(), *times])
    r = post_batch(
        served, workspace.app_id, {"id": user}, [event(kind, t) for t in times], sent_at=clock.now()
    )
    assert r.status_code == 200, r.content
    return r


def test_a_gap_of_30_minutes_starts_a_new_visit_and_29_59_does_not(served, workspace, fake_clock):
    _send(served, workspace, fake_clock, T0)
    _send(served, workspace, fake_clock, T0 + minutes(29) + timedelta(seconds=59))
    assert (_person().total_visits, _person().total_time_spent) == (1, 29 * 60 + 59)
    second = T0 + minutes(59) + timedelta(seconds=59)
    _send(served, workspace, fake_clock, second)  # exactly 30:00 later
    p = _person()
    assert (p.total_visits, p.total_time_spent, p.last_seen_at) == (2, 29 * 60 + 59, second)


def test_time_spent_sums_each_visit(served, workspace, fake_clock):
    beats = [T0 + timedelta(seconds=15 * i) for i in range(5)]  # one minute
    later = [T0 + minutes(120) + timedelta(seconds=15 * i) for i in range(3)]  # 30 s
    _send(served, workspace, fake_clock, *beats)
    _send(served, workspace, fake_clock, *later)
    p = _person()
    assert (p.total_visits, p.total_time_spent) == (2, 90.0)


def test_a_late_event_recomputes_instead_of_going_backwards(served, workspace, fake_clock):
    _send(served, workspace, fake_clock, T0, T0 + minutes(40))  # two visits
    assert _person().total_visits == 2
    # Arrives late: it bridges the 40 minute gap into one visit.
    _send(served, workspace, fake_clock, T0 + minutes(20))
    p = _person()
    assert (p.total_visits, p.total_time_spent) == (1, 40 * 60)
    assert p.last_seen_at == T0 + minutes(40)
    assert p.last_activity_at == T0 + minutes(40)


def test_the_browser_clock_is_corrected_for_skew(served, workspace, fake_clock):
    fake_clock.current = T0
    browser_now = T0 - timedelta(hours=3)  # the visitor's clock is 3 h slow
    r = post_batch(
        served,
        workspace.app_id,
        {"id": "u1"},
        [event("page", browser_now - timedelta(seconds=10)), event("heartbeat", browser_now)],
        sent_at=browser_now,
    )
    assert r.status_code == 200
    p = _person()
    assert p.last_seen_at == T0
    assert p.total_time_spent == 10.0


def test_an_event_from_the_future_is_placed_at_arrival(served, workspace, fake_clock):
    r = post_batch(served, workspace.app_id, {"id": "u1"}, [event("page", T0 + timedelta(days=2))])
    assert r.status_code == 200
    assert _person().last_seen_at == T0


def test_other_activity_moves_last_activity_only(served, workspace, api, fake_clock):
    _send(served, workspace, fake_clock, T0)
    r = api.post("/users/u1/activity", {"type": "email_received", "at": "2024-05-01T13:00:00Z"})
    assert r.status_code == 200, r.content
    p = _person()
    assert (p.total_visits, p.last_seen_at) == (1, T0)
    assert p.last_activity_at == T0 + minutes(60)
    assert RawEvent.objects.filter(person=p, website=False).count() == 1


def test_recompute_rebuilds_the_same_values(served, workspace, api, fake_clock):
    _send(served, workspace, fake_clock, T0, T0 + minutes(5), T0 + minutes(50))
    _send(served, workspace, fake_clock, T0 + minutes(2))
    api.post("/users/u1/activity", {"type": "email_received", "at": "2024-05-01T14:00:00Z"})
    before = _person()
    Person.objects.filter(pk=before.pk).update(
        total_visits=0, total_time_spent=0, last_seen_at=None, last_activity_at=None
    )
    out = CliRunner().invoke(main, ["recompute", "--workspace", workspace.app_id])
    assert out.exit_code == 0, out.output
    assert "Recomputed 1 user" in out.output
    after = _person()
    fields = ("total_visits", "total_time_spent", "last_seen_at", "last_activity_at")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert after.total_visits == 2


def test_recompute_names_an_unknown_workspace(db):
    out = CliRunner().invoke(main, ["recompute", "--workspace", "app_missing"])
    assert out.exit_code == 2
    assert "No workspace with app_id app_missing" in out.output
