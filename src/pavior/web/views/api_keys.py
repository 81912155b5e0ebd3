"""Workspace settings: the secret API keys for the REST API (create, list, revoke)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pavior.core.errors import PaviorError
from pavior.web.context import current_workspace
from pavior.web.display import relative, workspace_tz
from pavior.workspaces.actions import add_api_key, revoke_api_key


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    ws = current_workspace(request)
    tz = workspace_tz(ws)
    keys = []
    # Never the keys themselves (only their hashes are stored): name and prefix.
    for row in ws.api_keys.order_by("created_at", "pk"):
        used = row.last_used_at
        keys.append(
            {
                "id": row.pk,
                "name": row.name,
                "prefix": row.prefix,
                "created": row.created_at.astimezone(tz),
                "last_used": used.astimezone(tz) if used else None,
                "last_used_hint": relative(used) if used else "",
            }
        )
    base = settings.SITE_URL or f"{request.scheme}://{request.get_host()}"
    return {"nav": "api_keys", "keys": keys, "base_url": base, "timezone": str(tz), **extra}


@login_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "web/api_keys.html", _context(request))
    ws = current_workspace(request)
    name = request.POST.get("name", "")
    try:
        key, row = add_api_key(ws, name)
    except PaviorError as e:
        context = _context(request, name_error=e.message, name_value=name)
        return render(request, "web/api_keys.html", context, status=422)
    # Rendered, not redirected: this response is the only time the key is shown.
    response = render(
        request, "web/api_keys.html", _context(request, new_key=key, new_key_name=row.name)
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    ws = current_workspace(request)
    try:
        name = revoke_api_key(ws, key_id)
    except PaviorError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"API key “{name}” revoked: calls made with it now get 401.")
    return redirect("/settings/api-keys/")
