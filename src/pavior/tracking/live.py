"""Live attributes (SPEC §2): what a user is doing on the site right now.

Kept in Django's cache (Redis with REDIS_URL, else one SQLite file shared by
every process: pavior.sqlite_cache) under one key per user, expiring when the
visit would end (30 minutes without activity), so reading them is one cache
get and a finished visit leaves nothing behind.

The snippet sends a `hide` event when its page is hidden or closed: the live
state is then marked hidden and reads as "not on the site", until the next
website event of the same visit (the tab shown again) clears the mark. The
visit goes on: a glance at another tab is not a new session.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.cache import cache

from pavior.core.visits import SESSION_GAP
from pavior.tracking import clock

# A visible page sends a heartbeat every 15 s: between two of them the person
# is still there, so time is counted up to this long past the last one.
HEARTBEAT_SLACK = timedelta(seconds=15)
INTERACTIONS = frozenset({"interaction", "click", "keypress"})
HIDE = "hide"


@dataclass(frozen=True)
class LiveState:
    """The live attributes and when an event last updated them."""

    attributes: dict[str, Any]
    updated_at: datetime


def _key(workspace_id: int, user_id: str) -> str:
    # A digest, not the id itself: ids are up to 1,000 characters of anything,
    # and cache backends want short keys without spaces or control characters.
    digest = hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"pavior:live:{workspace_id}:{digest}"


def get_live_state(workspace_id: int, user_id: str) -> LiveState | None:
    """The user's live attributes and their last update, else None (one cache get)."""
    state = cache.get(_key(workspace_id, user_id))
    if state is None or state.get("hidden_at") is not None:
        return None
    now = clock.now().timestamp()
    last = state["last_at"]
    if now - last >= SESSION_GAP.total_seconds():
        return None  # the cache may keep a key a little past its time
    as_of = max(min(now, last + HEARTBEAT_SLACK.total_seconds()), last)
    session = max(as_of - state["visit_started_at"], 0.0)
    # A page opened before the visit began cannot be: never more than the session.
    on_page = min(max(as_of - state["page_started_at"], 0.0), session)
    attributes = {
        "time_on_current_page": round(on_page, 3),
        "current_page_url": state["url"],
        "current_session_duration": round(session, 3),
        "interacted_in_current_session": state["interacted"],
    }
    return LiveState(attributes, datetime.fromtimestamp(last, UTC))


def get_live_attributes(workspace_id: int, user_id: str) -> dict[str, Any] | None:
    """The four live attributes of a user on the site now, else None (one cache get)."""
    live = get_live_state(workspace_id, user_id)
    return None if live is None else live.attributes


def record_live(
    workspace_id: int, user_id: str, events: Iterable[tuple[datetime, str, str | None]]
) -> None:
    """Fold website and `hide` events (at, type, url) into the user's live state.

    Events older than the last one already folded in are ignored: the live
    state is about now, and a late event cannot change what page is open.
    A `hide` marks the state hidden; any later website event of the same
    visit clears the mark and the visit goes on.
    """
    record_live_many([(workspace_id, user_id, list(events), False)])


def record_live_many(
    updates: Sequence[tuple[int, str, list[tuple[datetime, str, str | None]], bool]],
) -> None:
    """record_live for several users at once, each (workspace id, user id,
    events, ended): one get_many and one set_many for all of them (two Redis
    round trips for a whole flush of the tracking writer, not two per user).
    `ended` (a `shutdown`: the user left) drops the state after its events."""
    keys = [_key(workspace_id, user_id) for workspace_id, user_id, _, _ in updates]
    states: dict[str, Any] = cache.get_many(list(dict.fromkeys(keys)))
    changed: set[str] = set()
    ended: set[str] = set()
    for key, (_, _, events, gone) in zip(keys, updates, strict=True):
        state, moved = _fold(states.get(key), events)
        if moved and state is not None:
            states[key] = state
            changed.add(key)
        if gone:  # the next batch of this user in the list starts a new state
            states[key] = None
            changed.discard(key)
            ended.add(key)
        elif moved:
            ended.discard(key)  # a later batch of the same user came back
    now = clock.now().timestamp()
    gap = SESSION_GAP.total_seconds()
    # One timeout for all: a state read after its visit would have ended is
    # refused by get_live_state, so a key that outlives its visit is harmless.
    fresh = {k: states[k] for k in changed - ended if gap - (now - states[k]["last_at"]) > 0}
    if fresh:
        cache.set_many(fresh, timeout=gap)
    if ended:
        cache.delete_many(list(ended))


def _fold(
    state: dict[str, Any] | None, events: Iterable[tuple[datetime, str, str | None]]
) -> tuple[dict[str, Any] | None, bool]:
    """The live state after the events, and whether they changed it."""
    gap = SESSION_GAP.total_seconds()
    changed = False
    for at_dt, kind, url in sorted(events, key=lambda e: e[0]):
        at = at_dt.timestamp()
        if state is not None and at < state["last_at"]:
            continue
        if kind == HIDE:
            if state is not None and at - state["last_at"] < gap:
                state["hidden_at"] = at
                changed = True
            continue
        if state is None or at - state["last_at"] >= gap:
            state = {
                "visit_started_at": at,
                "page_started_at": at,
                "url": url,
                "interacted": False,
                "last_at": at,
            }
        if url and url != state["url"]:
            state["url"] = url
            state["page_started_at"] = at
        if kind in INTERACTIONS:
            state["interacted"] = True
        state["hidden_at"] = None
        state["last_at"] = at
        changed = True
    return state, changed


def forget_live(workspace_id: int, user_id: str) -> None:
    """The user left (shutdown): drop their live state."""
    cache.delete(_key(workspace_id, user_id))
