"""Reading saved segments, and parsing a filter that may name them.

Every door that takes a filter (REST search/count/reports, the users list,
the report page, segments themselves) parses it through
`parse_workspace_filter`, so `{"segment": ID}` means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from pavior.core.attributes import AttributeDef
from pavior.core.errors import NotFound
from pavior.core.filters import Node, SegmentResolver, StoredSegment, parse_filter
from pavior.people.queries import attribute_lookup
from pavior.segments.models import Segment
from pavior.workspaces.models import Workspace


def segment_resolver(workspace: Workspace) -> SegmentResolver:
    """id -> StoredSegment of this workspace (one query per id, remembered)."""
    seen: dict[int, StoredSegment | None] = {}

    def resolve(segment_id: int) -> StoredSegment | None:
        if segment_id not in seen:
            # ids past a 64-bit column would make the database raise, not miss
            row = (
                Segment.objects.filter(workspace=workspace, pk=segment_id)
                .values("id", "name", "filter")
                .first()
                if segment_id < 2**63
                else None
            )
            seen[segment_id] = StoredSegment(row["id"], row["name"], row["filter"]) if row else None
        return seen[segment_id]

    return resolve


def parse_workspace_filter(
    workspace: Workspace,
    data: object,
    *,
    lookup: Callable[[str], AttributeDef | None] | None = None,
    defining: int | None = None,
) -> Node | None:
    """A filter of this workspace: attributes and segments resolved, cycles refused."""
    return parse_filter(
        data,
        lookup or attribute_lookup(workspace),
        segments=segment_resolver(workspace),
        defining=defining,
    )


def list_segments(workspace: Workspace) -> list[Segment]:
    return list(Segment.objects.filter(workspace=workspace).order_by("name", "id"))


def get_segment(workspace: Workspace, segment_id: int) -> Segment:
    """The segment, or a 404 that names the id."""
    found = (
        Segment.objects.filter(workspace=workspace, pk=segment_id).first()
        if 0 < segment_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(f"No segment with id {segment_id}", field="id")
    return found


def segment_count(workspace: Workspace, segment: Segment) -> int:
    """Users in the segment now."""
    from pavior.segments.queries import count_people

    node = parse_workspace_filter(workspace, {"segment": segment.pk})
    return count_people(workspace, node)
