"""New visitors known by an id alone are created together in their flush (one
INSERT) and come out exactly as one created by herself: the same
first_known_at rule, the same `user_changed` announcement (segments and
messages hear of them), their page view counted. One with an email still takes
the one-by-one path (it may match an existing user by email)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.people import hooks
from pavior.people.actions import upsert_user
from pavior.people.models import Person
from tests.tracking.conftest import T0, event
from tests.tracking.test_group_commit import _batch, _queued, _send, _wait, held_writer

pytestmark = pytest.mark.django_db(transaction=True)

__all__ = ["held_writer"]  # the fixture, shared with the group-commit tests


@pytest.fixture
def heard() -> Iterator[list[hooks.UserChanged]]:
    events: list[hooks.UserChanged] = []
    hooks.user_changed.subscribe(events.append)
    yield events
    hooks.user_changed.unsubscribe(events.append)


def test_new_visitors_of_a_flush_are_created_as_one_alone_would_be(
    served: Any, workspace: Any, fake_clock: Any, held_writer: Any, heard: list[Any]
) -> None:
    app = workspace.app_id
    bodies = [_batch(app, f"new{i}", event("page", T0)) for i in range(3)]
    with_email = _batch(app, "mailed", event("page", T0))
    with_email["user"]["email"] = "m@example.com"
    bodies.append(with_email)
    responses = _send(served, bodies)
    _wait(_queued(len(bodies)))
    held_writer.set()  # the four batches now share one flush
    assert [r.status_code for r in responses.result(timeout=30)] == [200] * 4
    assert [r.json()["accepted"] for r in responses.result()] == [1] * 4

    # The rule for one new user at a time, for comparison.
    upsert_user(workspace, {"id": "alone"}, trust=Trust.BROWSER)

    people = {p.external_id: p for p in Person.objects.filter(workspace=workspace)}
    assert set(people) == {"new0", "new1", "new2", "mailed", "alone"}
    for user_id in ("new0", "new1", "new2"):
        person = people[user_id]
        assert person.first_known_at is not None
        assert person.total_visits == 1 and person.last_seen_at is not None
    created = {e.user_id: e for e in heard if e.created}
    assert set(created) == set(people)
    for user_id in ("new0", "new1", "new2"):
        assert created[user_id].person_id == people[user_id].pk
        assert created[user_id].changed == created["alone"].changed
