"""API routes of this package: GET /api/v1/users/{id}/live."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from pavior.core.errors import NotFound
from pavior.tracking.live import get_live_attributes
from pavior.workspaces.schemas import ErrorOut

router = Router(tags=["users"])


@router.get("/users/{user_id}/live", response={200: dict[str, Any], 404: ErrorOut})
def live_attributes(request: HttpRequest, user_id: str) -> Any:
    """The four live attributes while the user has the site open; 404 when not."""
    values = get_live_attributes(request.workspace.pk, user_id)  # type: ignore[attr-defined]
    if values is None:
        raise NotFound(f'User "{user_id}" is not on the site now', field="id")
    return values
