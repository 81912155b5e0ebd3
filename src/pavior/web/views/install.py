"""Install page: the snippet, identity verification mode and secrets."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pavior.core.errors import PaviorError
from pavior.web.context import current_workspace
from pavior.workspaces.actions import (
    create_identity_secret,
    revoke_identity_secret,
    update_workspace_settings,
)
from pavior.workspaces.models import IdentityVerification

STUB = (
    "window.Pavior = window.Pavior || function () "
    "{ (window.Pavior.q = window.Pavior.q || []).push(arguments); };"
)


def snippet(base_url: str, app_id: str) -> str:
    return (
        "<script>\n"
        f"{STUB}\n"
        f"Pavior('init', {{ app_id: '{app_id}', id: USER_ID, email: USER_EMAIL, "
        "user_hash: USER_HASH });\n"
        "</script>\n"
        f'<script async src="{base_url}/pavior.js"></script>'
    )


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    ws = current_workspace(request)
    base = settings.SITE_URL or f"{request.scheme}://{request.get_host()}"
    return {
        "nav": "install",
        "snippet": snippet(base, ws.app_id),
        "modes": [
            ("off", "Off", "Anyone with your app_id can identify as any user."),
            (
                "optional",
                "Optional",
                "Unverified visits are tracked but cannot set Signed up "
                "on, change an email or read personal messages; once a user has "
                "been verified, unverified visits for them are refused.",
            ),
            (
                "required",
                "Required",
                "An identified visit without a valid user_hash or user_jwt is refused and "
                "writes nothing.",
            ),
        ],
        # Never the secrets themselves: only their prefixes (SPEC §1: shown once).
        "secrets": list(
            ws.identity_secrets.order_by("created_at").values("id", "prefix", "created_at")
        ),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def install_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ws = current_workspace(request)
        mode = request.POST.get("identity_verification", "")
        try:
            update_workspace_settings(ws, {"identity_verification": mode})
        except PaviorError as e:
            return render(
                request, "web/install.html", _context(request, mode_error=e.message), status=422
            )
        label = dict(IdentityVerification.choices).get(mode, mode)
        messages.success(request, f"Identity verification is now {label.lower()}.")
        return redirect("/install/")
    return render(request, "web/install.html", _context(request))


def first_keys_page(request: HttpRequest, *, api_key: str, identity_secret: str) -> HttpResponse:
    """The end of the first run: the install page with the workspace's first API key
    and identity secret, shown this once (only the secret's prefix and the key's
    hash are ever shown again)."""
    first = {"api_key": api_key, "identity_secret": identity_secret}
    response = render(request, "web/install.html", _context(request, first_keys=first))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def new_secret(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    secret, _ = create_identity_secret(ws)
    # Rendered, not redirected: this response is the only time the secret is shown.
    response = render(request, "web/install.html", _context(request, new_secret=secret))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_secret(request: HttpRequest, secret_id: int) -> HttpResponse:
    ws = current_workspace(request)
    try:
        revoke_identity_secret(ws, secret_id)
    except PaviorError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "Secret revoked: hashes made with it no longer verify.")
    return redirect("/install/")
