"""The writer updates the live state of a whole flush at once (one get_many and
one set_many): each user of the flush still gets their own state, a user who
left (shutdown) loses theirs, and one who came back later in the same flush
starts a new visit. On every cache backend (local memory; SQLite; Redis with REDIS_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pavior.tracking.live import get_live_attributes, record_live_many
from tests.tracking.conftest import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_backend")]


def test_each_user_of_a_flush_keeps_their_own_live_state(fake_clock) -> None:
    later = T0 + timedelta(seconds=20)
    record_live_many(
        [
            (1, "ann", [(T0, "page", "https://s.io/a")], False),
            (1, "bob", [(T0, "page", "https://s.io/b")], False),
            (2, "ann", [(T0, "page", "https://other.io/")], False),  # another workspace
            (1, "ann", [(later, "page", "https://s.io/a2")], False),  # ann again
            (1, "cid", [(T0, "page", "https://s.io/c")], True),  # came and left
        ]
    )
    fake_clock.advance(30)
    ann = get_live_attributes(1, "ann")
    assert ann is not None
    assert ann["current_page_url"] == "https://s.io/a2"
    assert ann["current_session_duration"] == 30.0
    assert ann["time_on_current_page"] == 10.0
    assert get_live_attributes(1, "bob")["current_page_url"] == "https://s.io/b"
    assert get_live_attributes(2, "ann")["current_page_url"] == "https://other.io/"
    assert get_live_attributes(1, "cid") is None


def test_a_user_who_left_and_came_back_in_one_flush_starts_a_new_visit(fake_clock) -> None:
    back = T0 + timedelta(seconds=5)
    record_live_many(
        [
            (1, "ann", [(T0, "page", "https://s.io/a")], False),
            (1, "ann", [(T0 + timedelta(seconds=1), "shutdown", None)], True),
            (1, "ann", [(back, "page", "https://s.io/b")], False),
        ]
    )
    fake_clock.advance(10)
    ann = get_live_attributes(1, "ann")
    assert ann is not None
    assert ann["current_page_url"] == "https://s.io/b"
    assert ann["current_session_duration"] == 5.0  # from `back`, not from T0
