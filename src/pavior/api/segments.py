"""/segments: saved filters, with a live count on GET one (SPEC §10, §11)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import ErrorOut, SegmentIn, SegmentOut, SegmentPatch
from pavior.core.dates import format_date
from pavior.segments import actions
from pavior.segments.models import Segment
from pavior.segments.saved import get_segment, list_segments, segment_count

router = Router(tags=["segments"])


def segment_out(segment: Segment, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": segment.pk,
        "name": segment.name,
        "filter": segment.filter or None,
        "created_at": format_date(segment.created_at),
        "updated_at": format_date(segment.updated_at),
    }
    if count is not None:
        out["count"] = count
    return out


@router.get("/segments", response=list[SegmentOut])
def list_all(request: HttpRequest) -> Any:
    return [segment_out(s) for s in list_segments(request.workspace)]  # type: ignore[attr-defined]


@router.post("/segments", response={201: SegmentOut, 409: ErrorOut, 422: ErrorOut})
def create(request: HttpRequest, payload: SegmentIn) -> Any:
    segment = actions.create_segment(request.workspace, payload.name, payload.filter)  # type: ignore[attr-defined]
    return Status(201, segment_out(segment))


@router.get("/segments/{segment_id}", response={200: SegmentOut, 404: ErrorOut, 422: ErrorOut})
def get_one(request: HttpRequest, segment_id: int) -> Any:
    workspace = request.workspace  # type: ignore[attr-defined]
    segment = get_segment(workspace, segment_id)
    return segment_out(segment, segment_count(workspace, segment))


@router.patch(
    "/segments/{segment_id}",
    response={200: SegmentOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def patch(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Any:
    given = payload.model_fields_set  # "filter": null clears it; absent leaves it
    changes: dict[str, Any] = {}
    if "name" in given:
        changes["name"] = payload.name
    if "filter" in given:
        changes["filter_data"] = payload.filter
    segment = actions.update_segment(request.workspace, segment_id, **changes)  # type: ignore[attr-defined]
    return segment_out(segment)


@router.delete("/segments/{segment_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete(request: HttpRequest, segment_id: int) -> Any:
    actions.delete_segment(request.workspace, segment_id)  # type: ignore[attr-defined]
    return Status(204, None)
