"""Which workspace a page is about, for every admin page (web and imports).

The current workspace is kept in the session (`SESSION_KEY`) and switched with
the form in the navigation; a team member only ever sees workspaces that
`workspaces_for_member` grants them.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from pavior.web.models import LastWorkspace
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


def choose_workspace(request: HttpRequest, workspace_id: int) -> None:
    """Look at this workspace now, and land on it at the next sign-in."""
    member: Any = request.user  # signed in: the views check before calling
    request.session[SESSION_KEY] = workspace_id
    LastWorkspace.objects.update_or_create(user=member, defaults={"workspace_id": workspace_id})


def current_workspace_or_none(request: HttpRequest) -> Workspace | None:
    allowed = member_workspaces(request)
    if not allowed:
        return None
    wanted = request.session.get(SESSION_KEY)
    if wanted is None:
        # A new session (just signed in): the workspace used last, once per session.
        member: Any = request.user  # signed in, or `allowed` would be empty
        wanted = (
            LastWorkspace.objects.filter(user=member).values_list("workspace_id", flat=True).first()
        )
        if wanted is not None:
            request.session[SESSION_KEY] = wanted
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
