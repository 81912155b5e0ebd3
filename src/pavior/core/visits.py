"""Visit (session) arithmetic, SPEC §3.

A visit is a run of website activity with no gap of 30 minutes or more.
The incremental path (``advance``) and the full recompute (``recompute``)
share one fold so that they give identical values, floats included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

SESSION_GAP = timedelta(minutes=30)


@dataclass
class VisitState:
    total_visits: int = 0
    total_time_spent: float = 0.0  # seconds
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    visit_started_at: datetime | None = None  # start of the latest visit


def advance(state: VisitState, at: datetime) -> VisitState:
    """The state after one more activity at ``at`` (not before the last one).

    A late event (``at`` before ``last_seen_at``) raises ValueError: it may
    split or join visits already counted, so the caller must ``recompute``
    from the stored activity instead.
    """
    last = state.last_seen_at
    if last is None:
        return VisitState(
            total_visits=1,
            total_time_spent=0.0,
            first_seen_at=at,
            last_seen_at=at,
            visit_started_at=at,
        )
    if at < last:
        raise ValueError(
            f"activity at {at.isoformat()} is before the last one ({last.isoformat()})"
        )
    gap = at - last
    if gap >= SESSION_GAP:
        return replace(
            state, total_visits=state.total_visits + 1, last_seen_at=at, visit_started_at=at
        )
    # Times are whole microseconds; rounding the sum to them keeps float error
    # from piling up over a long visit (and a total above the visit's span).
    return replace(
        state,
        total_time_spent=round(state.total_time_spent + gap.total_seconds(), 6),
        last_seen_at=at,
    )


def recompute(times: Iterable[datetime]) -> VisitState:
    """The state from every activity time, in any order, duplicates allowed."""
    state = VisitState()
    # Duplicates add a zero gap, so they could stay; dropping them just
    # saves work for a retried batch.
    for at in sorted(set(times)):
        state = advance(state, at)
    return state


# Clock differences up to this are taken as transit time, not skew (SPEC §3).
SKEW_TOLERANCE = timedelta(seconds=5)


def correct_skew(event_at: datetime, sent_at: datetime | None, received_at: datetime) -> datetime:
    """The server-clock time of an event stamped by a client clock.

    The client's offset is ``received_at - sent_at``. It is applied only when
    it is larger than SKEW_TOLERANCE: below that it is mostly the request's
    transit time, and a client whose clock is right keeps its exact times (two
    page views 30:00 apart stay two visits). An event is never placed after
    the moment the server received it, so a wrong clock cannot push
    ``last_seen_at`` into the future; an offset that would carry the event
    past the calendar's ends (a clock at year 1) places it at ``received_at``.
    """
    if sent_at is None:
        return min(event_at, received_at)
    offset = received_at - sent_at
    if abs(offset) <= SKEW_TOLERANCE:
        return min(event_at, received_at)
    try:
        return min(event_at + offset, received_at)
    except OverflowError:
        return received_at
