"""Indexes follow use: a custom attribute filtered or sorted often gets one.

An index costs every write to people, so Pavior does not index custom
attributes up front (and on SQLite not automatically at all; see below). Each
filter or sort on one is counted (in the cache, so a hot path costs one
increment); when an attribute of a workspace with enough users reaches
PAVIOR_INDEX_AFTER_USES uses, a background task builds its expression index
(pavior.segments.indexes). `pavior index` does it by hand.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from pavior.people.hooks import AttributeDeleted, AttributeUsed
from pavior.people.models import AttributeDefinition, Person
from pavior.segments.indexes import drop_expression_index, index_name

log = logging.getLogger(__name__)


def _counter_key(workspace_id: int, name: str) -> str:
    return f"pavior:filter-uses:{index_name(workspace_id, name)}"


def note_attribute_use(event: AttributeUsed) -> None:
    """Count a filter/sort use of custom attributes; enqueue an index at the threshold.

    Subscribed to people.hooks.attribute_used (segments/apps.py).
    """
    threshold = settings.PAVIOR_INDEX_AFTER_USES
    # PostgreSQL only: there the index is partial (one workspace) and has its
    # own statistics. On SQLite an expression index was measured to tip the
    # planner off the sort index of the users list (4 ms -> 175 ms at 1M
    # users), so there it is made by hand (`pavior index create`) when wanted.
    if threshold <= 0 or connection.vendor != "postgresql":
        return
    workspace_id = event.workspace_id
    for name in event.names:
        key = _counter_key(workspace_id, name)
        try:
            uses = cache.incr(key)
        except ValueError:  # first use: incr needs an existing key
            cache.add(key, 0, timeout=None)
            uses = cache.incr(key)
        if uses == threshold:
            _maybe_enqueue(workspace_id, name)


def _maybe_enqueue(workspace_id: int, name: str) -> None:
    people = Person.objects.filter(workspace_id=workspace_id)
    # Below this size a scan is already fast and an index only slows writes.
    if not people[settings.PAVIOR_INDEX_MIN_USERS - 1 :].exists():
        return
    attr_type = (
        AttributeDefinition.objects.filter(workspace_id=workspace_id, name=name)
        .values_list("type", flat=True)
        .first()
    )
    if attr_type is None:  # deleted meanwhile
        return
    from pavior.segments.tasks import build_attribute_index

    log.info("custom attribute %s of workspace %s is used often: indexing", name, workspace_id)
    transaction.on_commit(lambda: build_attribute_index.enqueue(workspace_id, name, attr_type))


def forget_attribute_index(event: AttributeDeleted) -> None:
    """After an attribute is deleted: drop its index and its use count.

    Subscribed to people.hooks.attribute_deleted, so it runs once the delete committed.
    """
    drop_expression_index(event.workspace_id, event.name)
    cache.delete(_counter_key(event.workspace_id, event.name))
