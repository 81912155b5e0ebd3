"""Property: whatever the order, duplicates and gaps, the incremental path and a
recompute from the raw events agree (SPEC §3), through the served intake.

Every example starts from an empty database (the same user, no events): an
example must not pass or fail because of what an earlier one stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavior.core.visits import recompute
from pavior.people.models import Person
from pavior.tracking.actions import recompute_person
from pavior.tracking.models import RawEvent
from tests.tracking.conftest import T0, event, post_batch

pytestmark = pytest.mark.django_db(transaction=True)

# Gaps cluster around the 30 minute boundary, where mistakes would show.
GAP = st.one_of(
    st.integers(0, 120),
    st.integers(29 * 60 - 2, 30 * 60 + 2),
    st.integers(0, 4 * 3600),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    gaps=st.lists(GAP, min_size=1, max_size=12),
    data=st.data(),
)
def test_incremental_equals_recompute(served, workspace, fake_clock, gaps, data):
    RawEvent.objects.all().delete()
    Person.objects.all().delete()
    user = "u1"
    times, t = [], T0
    for g in gaps:
        t += timedelta(seconds=g, milliseconds=data.draw(st.integers(0, 999)))
        times.append(t)
    events = [event("heartbeat", at) for at in times]
    # Duplicates (the same message sent again) and reordering across batches.
    events += data.draw(st.lists(st.sampled_from(events), max_size=4))
    order = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(order)), max_size=4)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    fake_clock.current = times[-1] + timedelta(seconds=1)
    for batch in filter(None, batches):
        r = post_batch(served, workspace.app_id, {"id": user}, batch, sent_at=fake_clock.now())
        assert r.status_code == 200, r.content
    incremental = Person.objects.get(workspace=workspace, external_id=user)
    expected = recompute(times)
    assert incremental.total_visits == expected.total_visits
    assert incremental.total_time_spent == expected.total_time_spent
    assert incremental.last_seen_at == expected.last_seen_at
    recompute_person(incremental)
    rebuilt = Person.objects.get(pk=incremental.pk)
    for f in ("total_visits", "total_time_spent", "last_seen_at", "last_activity_at"):
        assert getattr(rebuilt, f) == getattr(incremental, f), f
