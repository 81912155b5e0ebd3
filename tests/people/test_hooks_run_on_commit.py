"""The events other packages (segments now; in-site messages and email next)
subscribe to: what they carry, and that they run only once the write commits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from pavior.core.attributes import Trust
from pavior.core.filters import parse_filter
from pavior.people import hooks
from pavior.people.actions import create_attribute, delete_attribute, upsert_user
from pavior.people.queries import attribute_lookup
from pavior.segments.queries import count_people
from pavior.tracking.activity import record_activity

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard() -> Iterator[list[Any]]:
    events: list[Any] = []
    all_hooks = [
        hooks.user_changed,
        hooks.email_subscription_changed,
        hooks.attribute_used,
        hooks.attribute_deleted,
    ]
    for hook in all_hooks:
        hook.subscribe(events.append)
    yield events
    for hook in all_hooks:
        hook.unsubscribe(events.append)


def test_a_new_user_and_a_change_are_announced_with_what_changed(
    workspace: Any, heard: list[Any]
) -> None:
    create_attribute(workspace, "plan", "string")
    person = upsert_user(workspace, {"id": "u1", "email": "a@x.io"}, trust=Trust.SECRET).person
    created = heard.pop()
    assert created == hooks.UserChanged(
        workspace_id=workspace.pk,
        person_id=person.pk,
        user_id="u1",
        created=True,
        changed=created.changed,
    )
    assert {"id", "email", "email_subscription"} <= created.changed
    assert "plan" not in created.changed and "name" not in created.changed

    upsert_user(workspace, {"id": "u1", "plan": "pro", "first_name": "Ann"}, trust=Trust.SECRET)
    assert heard == [
        hooks.UserChanged(
            workspace.pk, person.pk, "u1", False, frozenset({"plan", "first_name", "name"})
        )
    ]
    heard.clear()
    upsert_user(workspace, {"id": "u1", "plan": "pro"}, trust=Trust.SECRET)
    assert heard == []  # nothing changed: nothing to announce


def test_an_unsubscribe_is_its_own_event(workspace: Any, heard: list[Any]) -> None:
    person = upsert_user(workspace, {"id": "u1"}, trust=Trust.SECRET).person
    heard.clear()
    upsert_user(workspace, {"id": "u1", "email_subscription": False}, trust=Trust.SECRET)
    assert heard == [
        hooks.UserChanged(workspace.pk, person.pk, "u1", False, frozenset({"email_subscription"})),
        hooks.EmailSubscriptionChanged(workspace.pk, person.pk, "u1", subscribed=False),
    ]


def test_nothing_is_announced_for_a_write_that_rolls_back(workspace: Any, heard: list[Any]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        upsert_user(workspace, {"id": "u1", "email": "a@x.io"}, trust=Trust.SECRET)
        assert heard == []  # not before the commit either
        raise RuntimeError("the caller's transaction fails after the write")
    assert heard == []


def test_other_activity_announces_last_activity_at(workspace: Any, heard: list[Any]) -> None:
    person = upsert_user(workspace, {"id": "u1"}, trust=Trust.SECRET).person
    heard.clear()
    record_activity(workspace, "u1", "email_received")
    assert heard == [
        hooks.UserChanged(workspace.pk, person.pk, "u1", False, frozenset({"last_activity_at"}))
    ]


def test_filtering_on_a_custom_attribute_and_deleting_it_are_announced(
    workspace: Any, heard: list[Any]
) -> None:
    create_attribute(workspace, "plan", "string")
    node = parse_filter(
        {
            "and": [
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"attribute": "email", "op": "is_set"},
            ]
        },
        attribute_lookup(workspace),
    )
    count_people(workspace, node)
    assert heard == [hooks.AttributeUsed(workspace.pk, ("plan",))]  # built-ins are not counted
    heard.clear()
    delete_attribute(workspace, "plan")
    assert heard == [hooks.AttributeDeleted(workspace.pk, "plan")]


def test_a_failing_subscriber_neither_undoes_the_write_nor_stops_the_others(
    workspace: Any, heard: list[Any]
) -> None:
    def broken(event: Any) -> None:
        raise RuntimeError("a subscriber's bug")

    hooks.user_changed.unsubscribe(heard.append)
    hooks.user_changed.subscribe(broken)
    hooks.user_changed.subscribe(heard.append)
    try:
        upsert_user(workspace, {"id": "u1"}, trust=Trust.SECRET)
    finally:
        hooks.user_changed.unsubscribe(broken)
    assert [e.user_id for e in heard] == ["u1"]
    assert workspace.people.filter(external_id="u1").exists()


def test_many_events_at_once_run_on_commit_and_one_failure_stops_no_other() -> None:
    hook: hooks.Hook[int] = hooks.Hook("test")
    got: list[int] = []

    def picky(n: int) -> None:
        if n == 2:
            raise ValueError("not this one")
        got.append(n)

    hook.subscribe(picky)
    with transaction.atomic():
        hook.emit_many([1, 2, 3])
        assert got == []  # not before the commit
    assert got == [1, 3]
    with transaction.atomic():
        hook.emit_many([4])
        transaction.set_rollback(True)
    assert got == [1, 3]  # a rolled-back write announces nothing
