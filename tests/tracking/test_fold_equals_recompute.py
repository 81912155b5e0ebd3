"""Property: with the folder on, whatever the order of deliveries, duplicates,
late events, batches forced inline and the size of each fold, once everything
is folded every user's derived values are what a recompute from the raw
events gives, each message is stored once and nothing is left pending.

Batches go through the group-commit writer's own flush (one transaction per
flush, as served); a flush that holds two batches of one user, or a batch
with an `update`, takes the inline path for them, beside the deferred ones.
Every example starts from an empty database."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavior.core.errors import PaviorError
from pavior.people.models import Person
from pavior.tracking.actions import Event, Identity, recompute_person
from pavior.tracking.folder import fold_once
from pavior.tracking.models import PendingEvent, RawEvent
from pavior.tracking.writer import Job, flush
from tests.tracking.conftest import T0

pytestmark = pytest.mark.django_db(transaction=True)

USERS = ["u0", "u1", "u2", "u3"]
DERIVED = ("total_visits", "total_time_spent", "last_seen_at", "last_activity_at")
NOW = T0 + timedelta(hours=6)

# Times cluster around the 30 minute boundary, where mistakes would show.
OFFSET = st.one_of(
    st.integers(0, 4 * 3600),
    st.integers(29 * 60, 31 * 60),
    st.integers(0, 120),
)
EVENT = st.tuples(st.sampled_from(USERS), st.sampled_from(["page", "heartbeat"]), OFFSET)


@st.composite
def deliveries(draw: Any) -> list[Any]:
    """Flushes of batches, each batch one user's events (some sent before),
    with folds of random sizes between flushes."""
    events = draw(st.lists(EVENT, min_size=1, max_size=30))
    by_user: dict[str, list[Event]] = {}
    for n, (user, type_, offset) in enumerate(events):
        at = T0 + timedelta(seconds=offset, milliseconds=n)
        by_user.setdefault(user, []).append(Event(message_id=f"m{n}", type=type_, at=at))
    plan: list[Any] = []
    unsent = {u: list(draw(st.permutations(evs))) for u, evs in by_user.items()}
    while any(unsent.values()):
        jobs = []
        for _ in range(draw(st.integers(1, 4))):
            if not any(unsent.values()):
                break
            user = draw(st.sampled_from(sorted(u for u in unsent if unsent[u])))
            k = draw(st.integers(1, min(3, len(unsent[user]))))
            batch, unsent[user] = unsent[user][:k], unsent[user][k:]
            # A retry of events sent before (pending, folded, or in this flush).
            again = draw(st.lists(st.sampled_from(by_user[user]), max_size=2, unique_by=id))
            batch += [e for e in again if e not in batch]
            if draw(st.booleans()) and draw(st.booleans()):  # forced inline: an attribute write
                at = T0 + timedelta(seconds=draw(OFFSET))
                batch.append(
                    Event(f"upd-{user}-{len(plan)}-{len(jobs)}", "update", at, attributes={})
                )
            if batch:
                jobs.append((user, batch))
        folds = draw(st.lists(st.integers(1, 8), max_size=3))
        plan.append((jobs, folds))
    return plan


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=deliveries())
def test_fold_equals_recompute(workspace, settings, plan):  # noqa: F811
    settings.PAVIOR_FOLD_IN_WORKER = True
    RawEvent.objects.all().delete()
    PendingEvent.objects.all().delete()
    Person.objects.all().delete()
    outcomes: list[Any] = []
    sent: set[str] = set()
    for jobs, folds in plan:
        flush(
            [
                Job(
                    workspace.app_id,
                    Identity(user_id=user),
                    list(batch),
                    NOW,
                    None,
                    done=outcomes.append,
                )
                for user, batch in jobs
            ]
        )
        sent |= {e.message_id for _, batch in jobs for e in batch}
        for k in folds:
            fold_once(limit=k)
    assert not [o for o in outcomes if isinstance(o, PaviorError)]
    # Each message acknowledged as accepted once, whichever path took it.
    assert sum(o.accepted for o in outcomes) == len(sent)
    for _ in range(50):  # (a fold that leaves what it took pending would never end)
        if not fold_once():
            break
    assert PendingEvent.objects.count() == 0
    stored = Counter(RawEvent.objects.values_list("message_id", flat=True))
    assert set(stored) == sent
    assert max(stored.values()) == 1
    for person in Person.objects.all():
        folded = tuple(getattr(person, f) for f in DERIVED)
        recompute_person(person)
        person.refresh_from_db()
        assert tuple(getattr(person, f) for f in DERIVED) == folded, person.external_id
