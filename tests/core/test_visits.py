from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.visits import (
    SESSION_GAP,
    SKEW_TOLERANCE,
    VisitState,
    advance,
    correct_skew,
    recompute,
)

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def fold(times: list[datetime]) -> VisitState:
    state = VisitState()
    for at in times:
        state = advance(state, at)
    return state


def test_first_activity_starts_the_first_visit() -> None:
    state = advance(VisitState(), T0)
    assert state == VisitState(1, 0.0, T0, T0, T0)


def test_29_59_apart_is_the_same_visit() -> None:
    later = T0 + timedelta(minutes=29, seconds=59)
    state = fold([T0, later])
    assert state.total_visits == 1
    assert state.total_time_spent == 29 * 60 + 59
    assert state.visit_started_at == T0 and state.last_seen_at == later


def test_30_00_apart_starts_a_new_visit() -> None:
    later = T0 + SESSION_GAP
    state = fold([T0, later])
    assert state.total_visits == 2
    assert state.total_time_spent == 0
    assert state.visit_started_at == later and state.first_seen_at == T0


def test_time_spent_sums_each_visit_first_to_last() -> None:
    times = [T0, T0 + timedelta(seconds=15), T0 + timedelta(seconds=30)]
    second = T0 + timedelta(hours=2)
    times += [second, second + timedelta(seconds=45.5)]
    state = fold(times)
    assert state.total_visits == 2
    assert state.total_time_spent == 30 + 45.5
    assert state.last_seen_at == second + timedelta(seconds=45.5)


def test_heartbeats_keep_a_long_visit_alive() -> None:
    state = fold([T0 + timedelta(seconds=15 * i) for i in range(4 * 60 * 2)])  # two hours
    assert state.total_visits == 1
    assert state.total_time_spent == 15 * (4 * 60 * 2 - 1)


def test_duplicate_activity_changes_nothing() -> None:
    once = fold([T0, T0 + timedelta(seconds=10)])
    assert advance(once, T0 + timedelta(seconds=10)) == once


def test_advance_does_not_mutate_its_input() -> None:
    state = advance(VisitState(), T0)
    advance(state, T0 + timedelta(hours=1))
    assert state == VisitState(1, 0.0, T0, T0, T0)


def test_late_event_must_be_recomputed() -> None:
    state = fold([T0, T0 + timedelta(minutes=5)])
    with pytest.raises(ValueError, match="before the last one"):
        advance(state, T0 + timedelta(minutes=1))


def test_recompute_of_nothing_is_the_empty_state() -> None:
    assert recompute([]) == VisitState()


def test_recompute_handles_a_late_event_that_joins_two_visits() -> None:
    times = [T0, T0 + timedelta(minutes=40)]
    assert fold(times).total_visits == 2
    late = T0 + timedelta(minutes=20)
    state = recompute([*times, late])
    assert state.total_visits == 1
    assert state.total_time_spent == 40 * 60


@st.composite
def activity(draw: st.DrawFn) -> list[datetime]:
    # Gaps cluster around the 30-minute boundary, with duplicates and small
    # heartbeat-like steps, where an off-by-one would show.
    gap = st.one_of(
        st.just(timedelta(0)),
        st.integers(0, 120).map(lambda s: timedelta(seconds=s)),
        st.integers(-2, 2).map(lambda s: SESSION_GAP + timedelta(seconds=s)),
        st.integers(-2000, 2000).map(lambda ms: SESSION_GAP + timedelta(milliseconds=ms)),
        st.integers(0, 10**6).map(lambda s: timedelta(seconds=s)),
    )
    gaps = draw(st.lists(gap, max_size=40))
    times = [T0]
    for g in gaps:
        times.append(times[-1] + g)
    return times


@given(activity(), st.randoms(use_true_random=False))
def test_incremental_equals_recompute_in_any_order(
    times: list[datetime], rnd: random.Random
) -> None:
    shuffled = list(times)
    rnd.shuffle(shuffled)
    assert fold(times) == recompute(shuffled)


@given(activity())
def test_visit_count_matches_the_number_of_long_gaps(times: list[datetime]) -> None:
    state = recompute(times)
    long_gaps = sum(1 for a, b in zip(times, times[1:], strict=False) if b - a >= SESSION_GAP)
    assert state.total_visits == 1 + long_gaps
    assert state.first_seen_at == times[0] and state.last_seen_at == times[-1]
    assert 0 <= state.total_time_spent <= (times[-1] - times[0]).total_seconds()


# --- clock skew


def test_skew_is_corrected_by_the_send_to_receive_offset() -> None:
    received = T0
    sent = T0 - timedelta(hours=1)  # the browser clock is an hour slow
    event = sent - timedelta(seconds=20)
    assert correct_skew(event, sent, received) == received - timedelta(seconds=20)


def test_corrected_time_is_never_after_receipt() -> None:
    event = T0 + timedelta(minutes=5)
    assert correct_skew(event, T0, T0) == T0


def test_without_sent_at_the_event_time_is_capped_at_receipt() -> None:
    assert correct_skew(T0 + timedelta(days=1), None, T0) == T0
    assert correct_skew(T0 - timedelta(seconds=3), None, T0) == T0 - timedelta(seconds=3)


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6), st.integers(0, 10**5))
def test_corrected_time_never_exceeds_receipt(event_s: int, sent_s: int, delay_s: int) -> None:
    sent = T0 + timedelta(seconds=sent_s)
    event = T0 + timedelta(seconds=event_s)
    received = T0 + timedelta(seconds=delay_s)
    assert correct_skew(event, sent, received) <= received


def test_a_correct_clock_keeps_its_exact_times() -> None:
    """Transit time is not skew: a server client with a right clock whose request
    took 2 s keeps its event times, so page calls 30:00 apart stay two visits."""
    sent = T0
    received = T0 + timedelta(seconds=2)
    first = sent - timedelta(minutes=30)
    assert correct_skew(first, sent, received) == first
    assert correct_skew(sent, sent, received) == sent
    assert correct_skew(sent, sent, received) - correct_skew(first, sent, received) >= SESSION_GAP


def test_skew_just_past_the_tolerance_is_corrected() -> None:
    sent = T0 - SKEW_TOLERANCE - timedelta(seconds=1)
    assert correct_skew(sent, sent, T0) == T0


def test_offsets_past_the_calendar_place_the_event_at_receipt() -> None:
    """A client clock at year 1 with an event stamped 9999: no OverflowError."""
    sent = datetime(1, 1, 1, tzinfo=UTC)
    event = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert correct_skew(event, sent, T0) == T0
    ahead = datetime(9999, 12, 31, tzinfo=UTC)  # a clock far ahead, an event at year 1
    assert correct_skew(datetime(1, 1, 2, tzinfo=UTC), ahead, T0) == T0
