"""Segment actions: saved segments (create, rename/refilter, delete), and indexes.

Indexes follow use: a custom attribute filtered or sorted often gets one.

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
from django.db import IntegrityError, connection, transaction

from pavior.core.errors import Conflict, show_value
from pavior.core.filters import attribute_names, segment_ids
from pavior.core.segment_names import clean_segment_name
from pavior.people.hooks import AttributeDeleted, AttributeUsed
from pavior.people.indexed import drop_unneeded_triggers
from pavior.people.models import AttributeDefinition, Person
from pavior.segments.hooks import SegmentChanged, segment_changed, segment_in_use_checks
from pavior.segments.indexes import drop_expression_index, index_name
from pavior.segments.models import Segment
from pavior.segments.saved import get_segment, parse_workspace_filter
from pavior.workspaces.models import Workspace

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
    drop_unneeded_triggers(connection)  # the typed copy's, if it was the last indexed


# --- saved segments (SPEC §11) ----------------------------------------------------------

_UNSET = object()


def _check_name_free(workspace: Workspace, name: str, *, exclude: int | None = None) -> None:
    clash = Segment.objects.filter(workspace=workspace, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    taken = clash.values_list("name", flat=True).first()
    if taken is not None:
        raise Conflict(
            f"A segment named {show_value(taken)} already exists", field="name", code="name_taken"
        )


def _lock_segments(workspace: Workspace) -> None:
    # Serialises segment writes of one workspace (PostgreSQL), so two edits
    # cannot each pass the cycle check against the other's old filter.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).exists()


def _save(segment: Segment, name: str) -> Segment:
    try:
        with transaction.atomic():  # a savepoint: the IntegrityError leaves the outer one usable
            segment.save()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise Conflict(
            f"A segment named {show_value(name)} already exists", field="name", code="name_taken"
        ) from exc
    return segment


def _changed(segment: Segment) -> None:
    segment_changed.emit(SegmentChanged(segment.workspace_id, segment.pk))


def create_segment(workspace: Workspace, name: object, filter_data: object) -> Segment:
    """A new segment; its filter is validated now and re-read at every use."""
    clean = clean_segment_name(name)
    with transaction.atomic():
        _lock_segments(workspace)
        parse_workspace_filter(workspace, filter_data)
        _check_name_free(workspace, clean)
        segment = Segment(workspace=workspace, name=clean, filter=filter_data or {})
        _save(segment, clean)
        _changed(segment)
        return segment


def update_segment(
    workspace: Workspace, segment_id: int, *, name: object = _UNSET, filter_data: object = _UNSET
) -> Segment:
    """Rename and/or refilter; a filter that reaches this segment again is a 422."""
    with transaction.atomic():
        _lock_segments(workspace)
        segment = get_segment(workspace, segment_id)
        if name is not _UNSET:
            segment.name = clean_segment_name(name)
            _check_name_free(workspace, segment.name, exclude=segment.pk)
        if filter_data is not _UNSET:
            parse_workspace_filter(workspace, filter_data, defining=segment.pk)
            segment.filter = filter_data or {}
        _save(segment, segment.name)
        _changed(segment)
        return segment


def segment_users(workspace: Workspace, segment: Segment) -> list[str]:
    """What uses the segment: other segments naming it, and the checks of packages above."""
    users = [
        f"segment {show_value(other.name)} ({other.pk}) includes it"
        for other in Segment.objects.filter(workspace=workspace).exclude(pk=segment.pk)
        if segment.pk in segment_ids(other.filter)
    ]
    for check in segment_in_use_checks:
        found = check(segment)
        if found:
            users.append(found)
    return users


def delete_segment(workspace: Workspace, segment_id: int) -> None:
    """Delete a segment nothing uses; otherwise a 409 that names what uses it."""
    with transaction.atomic():
        _lock_segments(workspace)
        segment = get_segment(workspace, segment_id)
        users = segment_users(workspace, segment)
        if users:
            raise Conflict(
                f"Segment {show_value(segment.name)} is in use: {'; '.join(users)}",
                field="id",
                code="segment_in_use",
            )
        _changed(segment)
        segment.delete()


def segments_naming_attribute(workspace_id: int, name: str) -> list[str]:
    """Registered in people.hooks.attribute_in_use_checks: segments whose filter names it."""
    return [
        f"segment {show_value(s.name)} ({s.pk}) filters on it"
        for s in Segment.objects.filter(workspace_id=workspace_id).order_by("name", "id")
        if name in attribute_names(s.filter)
    ]
