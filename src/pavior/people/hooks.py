"""Events about people and attributes, for the packages above this one.

Imports point down (core <- workspaces <- people <- segments <-
tracking/imports/messaging <- api/web), so an action here cannot call
segments, tracking or messaging. It announces what happened instead; a
package above subscribes in its AppConfig.ready():

    from pavior.people import hooks
    hooks.user_changed.subscribe(my_function)   # my_function(event: UserChanged)

Subscribers run after the transaction that caused the event commits (never
for one that rolls back), each on its own: one that raises is logged and the
others still run. The events are documented in docs/DEVELOPING.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import transaction

log = logging.getLogger(__name__)

E = TypeVar("E")


@dataclass(frozen=True)
class UserChanged:
    """A user was created, or a write changed at least one of their attributes."""

    workspace_id: int
    person_id: int
    user_id: str  # the API's `id` after the write
    created: bool
    # API names (built-in and custom) whose stored value differs after the write.
    changed: frozenset[str]


@dataclass(frozen=True)
class EmailSubscriptionChanged:
    """A user's email_subscription moved (a new user starts subscribed: no event)."""

    workspace_id: int
    person_id: int
    user_id: str
    subscribed: bool


@dataclass(frozen=True)
class AttributeUsed:
    """A filter or sort of people named these custom attributes."""

    workspace_id: int
    names: tuple[str, ...]


@dataclass(frozen=True)
class AttributeDeleted:
    """A custom attribute and all its values were deleted."""

    workspace_id: int
    name: str


class Hook(Generic[E]):
    """One kind of event and the functions subscribed to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[[E], None]] = []

    def subscribe(self, fn: Callable[[E], None]) -> None:
        if fn not in self._subscribers:  # ready() may run twice in tests
            self._subscribers.append(fn)

    def unsubscribe(self, fn: Callable[[E], None]) -> None:
        if fn in self._subscribers:
            self._subscribers.remove(fn)

    def emit(self, event: E) -> None:
        """Run every subscriber with `event` once the current transaction commits
        (at once outside a transaction)."""
        for fn in list(self._subscribers):
            transaction.on_commit(_bound(fn, event), robust=True)

    def emit_many(self, events: list[E]) -> None:
        """emit for each event, with one on_commit per subscriber for all of
        them (a flush of new visitors announces hundreds at once)."""
        if events:
            for fn in list(self._subscribers):
                transaction.on_commit(_bound_many(fn, events), robust=True)


def _bound(fn: Callable[[E], None], event: E) -> Callable[[], None]:
    return lambda: fn(event)


def _bound_many(fn: Callable[[E], None], events: list[E]) -> Callable[[], None]:
    def run() -> None:
        for event in events:
            try:
                fn(event)
            except Exception:  # as robust on_commit: one failure stops no other
                log.exception("%s failed for %r", getattr(fn, "__name__", fn), event)

    return run


user_changed: Hook[UserChanged] = Hook("user_changed")
email_subscription_changed: Hook[EmailSubscriptionChanged] = Hook("email_subscription_changed")
attribute_used: Hook[AttributeUsed] = Hook("attribute_used")
attribute_deleted: Hook[AttributeDeleted] = Hook("attribute_deleted")


# Asked before a custom attribute is deleted, inside the delete's transaction:
# each check gets (workspace_id, name) and returns sentences naming what uses
# the attribute (segments, messages); any sentence refuses the delete (409).
AttributeInUseCheck = Callable[[int, str], list[str]]
attribute_in_use_checks: list[AttributeInUseCheck] = []
