"""Which workspace a page is about, for every admin page (web and imports).

The current workspace is kept in the session (`SESSION_KEY`) and switched with
the form in the navigation; a team member only ever sees workspaces that
`workspaces_for_member` grants them.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from pavior.workspaces.actions import workspaces_for_member
from pavior.workspaces.models import Workspace

SESSION_KEY = "pavior_workspace_id"


def member_workspaces(request: HttpRequest) -> list[Workspace]:
    # Cached on the request: the context processor and the view both ask.
    cached = getattr(request, "_pavior_workspaces", None)
    if cached is None:
        cached = workspaces_for_member(request.user)
        request._pavior_workspaces = cached  # type: ignore[attr-defined]
    return cached


def current_workspace_or_none(request: HttpRequest) -> Workspace | None:
    allowed = member_workspaces(request)
    if not allowed:
        return None
    wanted = request.session.get(SESSION_KEY)
    for ws in allowed:
        if ws.pk == wanted:
            return ws
    return allowed[0]


def current_workspace(request: HttpRequest) -> Workspace:
    """The workspace the signed-in team member is looking at; 404 when they have none."""
    ws = current_workspace_or_none(request)
    if ws is None:
        raise Http404("You are not a member of any workspace; ask an admin to add you.")
    return ws


def workspace_context(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: `workspace` and `member_workspaces` on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"workspace": None, "member_workspaces": []}
    return {
        "workspace": current_workspace_or_none(request),
        "member_workspaces": member_workspaces(request),
    }
