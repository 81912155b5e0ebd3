"""A user's candidate messages follow every change that moves them, through the caches.

`candidates_for` keeps compiled audiences per workspace and each user's matches
in the cache; these tests change a user's plan, a message's status and
schedule, a segment's filter and the clock, and check that the very next
answer (the caches warm from the call before) is the new one. Transactions
commit for real, since the caches are told after commit. The last test holds
the fast path, and the in-memory audience check `show` makes, to the
database's own answer (the SQL audience check).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import caches

from pavior.core import clock
from pavior.core.attributes import Trust
from pavior.messaging import targeting
from pavior.messaging.actions import create_message, update_message
from pavior.messaging.models import Delivery, Message
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.segments.actions import create_segment, update_segment

pytestmark = pytest.mark.django_db(transaction=True)

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


@pytest.fixture(autouse=True)
def fresh_caches() -> Any:
    caches["candidates"].clear()
    targeting.clear_compiled()
    yield
    caches["candidates"].clear()
    targeting.clear_compiled()


@pytest.fixture
def ws(workspace: Any) -> Any:
    create_attribute(workspace, "plan", "string")
    create_attribute(workspace, "seats", "number")
    return workspace


def user(ws: Any, user_id: str, **values: Any) -> Person:
    return upsert_user(ws, {"id": user_id, **values}, trust=Trust.SECRET).person


def live(ws: Any, audience: Any = None, **fields: Any) -> Message:
    data = {"kind": "announcement", "title": "Hi", "body": "Hello", "audience": audience or {}}
    return create_message(ws, "in_app", {**data, **fields}, status="live")


def ids(ws: Any, user_id: str) -> list[int]:
    person = Person.objects.get(workspace=ws, external_id=user_id)
    return [m["id"] for m in targeting.candidates_for(ws, person).messages]


def test_a_user_whose_plan_changes_gains_and_loses_the_message(ws: Any) -> None:
    user(ws, "ann", plan="free")
    everyone, pros = live(ws), live(ws, PRO)
    assert ids(ws, "ann") == [everyone.pk]
    user(ws, "ann", plan="pro")
    assert ids(ws, "ann") == [everyone.pk, pros.pk]
    user(ws, "ann", plan="free")
    assert ids(ws, "ann") == [everyone.pk]


def test_a_change_written_without_any_hook_is_seen(ws: Any) -> None:
    # The CSV import's set-based merge and the snippet's counters write rows
    # without emitting user_changed: the cached entry is keyed on the values
    # the audiences read, so the fresh row alone moves the answer.
    ann = user(ws, "ann", plan="free")
    pros = live(ws, PRO)
    assert ids(ws, "ann") == []
    Person.objects.filter(pk=ann.pk).update(custom={"plan": "pro", "seats": 3})
    assert ids(ws, "ann") == [pros.pk]
    Person.objects.filter(pk=ann.pk).update(custom={"plan": "pro", "seats": 4})
    assert ids(ws, "ann") == [pros.pk]
    Person.objects.filter(pk=ann.pk).update(custom={})
    assert ids(ws, "ann") == []


def test_a_paused_message_disappears_and_comes_back_when_live(ws: Any) -> None:
    user(ws, "ann", plan="pro")
    pros = live(ws, PRO)
    assert ids(ws, "ann") == [pros.pk]
    update_message(ws, pros.pk, {}, status="paused")
    assert ids(ws, "ann") == []
    update_message(ws, pros.pk, {}, status="live")
    assert ids(ws, "ann") == [pros.pk]


def test_an_audience_edit_moves_candidates(ws: Any) -> None:
    user(ws, "ann", plan="pro")
    message = live(ws, PRO)
    assert ids(ws, "ann") == [message.pk]
    update_message(ws, message.pk, {"audience": {"attribute": "plan", "op": "eq", "value": "x"}})
    assert ids(ws, "ann") == []


def test_a_segment_edit_moves_candidates(ws: Any) -> None:
    user(ws, "ann", plan="pro")
    user(ws, "bob", plan="free")
    segment = create_segment(ws, "Pros", PRO)
    message = live(ws, {"segment": segment.pk})
    assert (ids(ws, "ann"), ids(ws, "bob")) == ([message.pk], [])
    update_segment(ws, segment.pk, filter_data={"attribute": "plan", "op": "eq", "value": "free"})
    assert (ids(ws, "ann"), ids(ws, "bob")) == ([], [message.pk])


def test_a_message_shown_to_the_user_is_no_longer_a_candidate(ws: Any) -> None:
    ann = user(ws, "ann")
    message = live(ws)
    assert ids(ws, "ann") == [message.pk]
    Delivery.objects.create(workspace=ws, message=message, person=ann, state=Delivery.State.SHOWN)
    targeting.forget_user(ws.pk, ann.pk)  # what recording a display does
    assert ids(ws, "ann") == []


def test_the_schedule_is_checked_at_every_call(ws: Any) -> None:
    user(ws, "ann")
    start = datetime(2031, 5, 1, 12, tzinfo=UTC)
    message = live(
        ws, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
    )
    moments = [(-1, []), (0, [message.pk]), (3599, [message.pk]), (3600, [])]
    for seconds, expected in moments:
        with clock.use_clock(clock.FakeClock(start + timedelta(seconds=seconds))):
            assert ids(ws, "ann") == expected, seconds


def test_days_ago_audiences_move_with_the_clock(ws: Any) -> None:
    now = datetime(2031, 5, 1, 12, tzinfo=UTC)
    joined = now - timedelta(days=7) + timedelta(seconds=30)  # 7 days ago in 30 s
    Person.objects.create(workspace=ws, external_id="ann", signed_up_at=joined)
    recent = {"attribute": "signed_up_at", "op": "less_than_days_ago", "value": 7}
    fake = clock.FakeClock(now)
    with clock.use_clock(fake):
        message = live(ws, recent)
        assert ids(ws, "ann") == [message.pk]
        # Nothing about the user changed, only time: the cached answer goes
        # within RELATIVE_TTL of the moment it turned.
        fake.advance(31 + targeting.RELATIVE_TTL)
        assert ids(ws, "ann") == []


def test_a_time_zone_change_recompiles_day_conditions(ws: Any) -> None:
    from pavior.workspaces.actions import update_workspace_settings

    now = datetime(2031, 5, 1, 2, tzinfo=UTC)  # 1 May in UTC, 30 April in New York
    Person.objects.create(workspace=ws, external_id="ann", signed_up_at=now)
    on_first = {"attribute": "signed_up_at", "op": "on", "value": "2031-05-01"}
    with clock.use_clock(clock.FakeClock(now)):
        message = live(ws, on_first)
        assert ids(ws, "ann") == [message.pk]
        ws = update_workspace_settings(ws, {"timezone": "America/New_York"})
        assert ids(ws, "ann") == []


def test_the_fast_answer_is_the_databases_answer(ws: Any) -> None:
    plans = ["free", "pro", "Pro", None]
    for i in range(12):
        values: dict[str, Any] = {"seats": i % 5}
        if plans[i % 4]:
            values["plan"] = plans[i % 4]
        user(ws, f"u{i}", **values)
    segment = create_segment(ws, "Big", {"attribute": "seats", "op": "gte", "value": 3})
    audiences = [
        {},
        PRO,
        {"attribute": "plan", "op": "contains", "value": "PR"},
        {"or": [PRO, {"segment": segment.pk}]},
        {"and": [{"attribute": "plan", "op": "ne", "value": "pro"}, {"segment": segment.pk}]},
        {"attribute": "plan", "op": "is_not_set"},
    ]
    messages = [live(ws, a) for a in audiences]
    for person in Person.objects.filter(workspace=ws):
        expected = [m.pk for m in messages if targeting.audience_matches_sql(ws, m, person)]
        assert [m.pk for m in messages if targeting.audience_matches(ws, m, person)] == expected
        got = [c["id"] for c in targeting.candidates_for(ws, person).messages]
        assert got == expected, person.external_id
        assert [c["id"] for c in targeting.candidates_for(ws, person).messages] == expected


def test_the_cached_answer_needs_no_database(ws: Any, django_assert_num_queries: Any) -> None:
    ann = user(ws, "ann", plan="free")
    pros = live(ws, PRO)
    assert targeting.cached_candidates(ws, ann) is None  # nothing compiled or cached yet
    first = targeting.candidates_for(ws, ann)
    with django_assert_num_queries(0):
        assert targeting.cached_candidates(ws, ann) == first
        ann.custom = {"plan": "pro"}  # a fresh row with a new plan: worked out in memory
        moved = targeting.cached_candidates(ws, ann)
    assert moved is not None and [m["id"] for m in moved.messages] == [pros.pk]
    assert moved == targeting.candidates_for(ws, ann)
    update_message(ws, pros.pk, {}, status="paused")
    assert targeting.cached_candidates(ws, ann) is None  # the version moved: compile first
