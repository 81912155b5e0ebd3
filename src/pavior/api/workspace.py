"""/workspace settings and /identity-secrets."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import (
    ErrorOut,
    IdentitySecretCreated,
    IdentitySecretOut,
    WorkspaceOut,
    WorkspacePatch,
)
from pavior.core.dates import format_date
from pavior.workspaces import actions
from pavior.workspaces.models import IdentitySecret, Workspace

router = Router(tags=["workspace"])


def workspace_out(ws: Workspace) -> dict[str, Any]:
    return {
        "name": ws.name,
        "app_id": ws.app_id,
        "identity_verification": ws.identity_verification,
        "snippet_creates_attributes": ws.snippet_creates_attributes,
        "timezone": ws.timezone,
    }


@router.get("/workspace", response=WorkspaceOut)
def get_workspace(request: HttpRequest) -> Any:
    return workspace_out(request.workspace)  # type: ignore[attr-defined]


@router.patch("/workspace", response={200: WorkspaceOut, 422: ErrorOut})
def patch_workspace(request: HttpRequest, payload: WorkspacePatch) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    ws = actions.update_workspace_settings(request.workspace, changes)  # type: ignore[attr-defined]
    return workspace_out(ws)


def secret_out(row: IdentitySecret) -> dict[str, Any]:
    return {"id": row.pk, "prefix": row.prefix, "created_at": format_date(row.created_at)}


@router.get("/identity-secrets", response=list[IdentitySecretOut])
def list_secrets(request: HttpRequest) -> Any:
    rows = IdentitySecret.objects.filter(workspace=request.workspace).order_by("created_at")  # type: ignore[attr-defined]
    return [secret_out(r) for r in rows]


@router.post("/identity-secrets", response={201: IdentitySecretCreated})
def create_secret(request: HttpRequest) -> Any:
    secret, row = actions.create_identity_secret(request.workspace)  # type: ignore[attr-defined]
    return Status(201, {**secret_out(row), "secret": secret})


@router.delete("/identity-secrets/{secret_id}", response={204: None, 404: ErrorOut})
def revoke_secret(request: HttpRequest, secret_id: int) -> Any:
    actions.revoke_identity_secret(request.workspace, secret_id)  # type: ignore[attr-defined]
    return Status(204, None)
