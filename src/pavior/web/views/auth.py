"""Sign in and out, the first-run setup, and the workspace switcher."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from pavior import rate_limits
from pavior.core.errors import PaviorError
from pavior.web.context import SESSION_KEY, choose_workspace, member_workspaces
from pavior.web.views.install import first_keys_page
from pavior.workspaces.actions import AlreadySetUp, no_team_yet, set_up_first_admin
from pavior.workspaces.addresses import request_ip


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _wait_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"Too many sign-in attempts. Wait {minutes} minute{'s' * (minutes != 1)} and try again."


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if no_team_yet():
        return redirect("/")
    errors: dict[str, str] = {}
    email = ""
    status = 200
    retry_after = 0
    if request.method == "POST" and (retry_after := rate_limits.check_sign_in(request_ip(request))):
        errors["form"] = _wait_message(retry_after)
        status = 429
    elif request.method == "POST":
        email = request.POST.get("email", "").strip()
        password = request.POST.get("password", "")
        if not email:
            errors["email"] = "Enter the email you sign in with."
        if not password:
            errors["password"] = "Enter your password."  # noqa: S105 - a message
        if not errors:
            # Django's username is the lowercased email (create_admin stores it so).
            user = authenticate(request, username=email.lower(), password=password)
            if getattr(request, "axes_locked_out", False):
                retry_after = int(settings.AXES_COOLOFF_TIME * 3600)
                errors["form"] = _wait_message(retry_after)
                status = 429
            elif user is None:
                errors["form"] = "That email and password do not match a team member."
                status = 400
            else:
                login(request, user)
                return HttpResponseRedirect(_safe_next(request))
        else:
            status = 400
    return _login_page(request, errors, email, status, retry_after)


def _login_page(
    request: HttpRequest, errors: dict[str, str], email: str, status: int, retry_after: int = 0
) -> HttpResponse:
    response = render(
        request,
        "web/login.html",
        {"errors": errors, "email": email, "next": _safe_next(request)},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer (AXES_LOCKOUT_CALLABLE) while the account or address is
    locked: the sign-in form again, saying how long to wait."""
    retry_after = int(settings.AXES_COOLOFF_TIME * 3600)
    errors = {"form": _wait_message(retry_after)}
    return _login_page(request, errors, request.POST.get("email", "").strip(), 429, retry_after)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/login/")


def setup(request: HttpRequest) -> HttpResponse:
    """First run: no team member exists, so anyone reaching the server creates the first.

    Only ever reachable while the user table is empty; set_up_first_admin
    checks again under a lock so two racing browsers cannot both become admin.
    """
    errors: dict[str, str] = {}
    values = {"email": "", "workspace": ""}
    status = 200
    if request.method == "POST":
        values = {
            "email": request.POST.get("email", "").strip(),
            "workspace": request.POST.get("workspace", "").strip(),
        }
        password = request.POST.get("password", "")
        try:
            first = set_up_first_admin(values["email"], password, values["workspace"])
        except AlreadySetUp:
            return redirect("/login/")
        except PaviorError as e:
            field = {"name": "workspace"}.get(e.field or "", e.field or "form")
            errors[field] = e.message
            status = 400
        else:
            user, ws = first.user, first.workspace
            user.backend = "django.contrib.auth.backends.ModelBackend"
            login(request, user)
            request.session[SESSION_KEY] = ws.pk
            messages.success(request, f"Welcome! {ws.name} is ready; install the snippet next.")
            return first_keys_page(
                request, api_key=first.api_key, identity_secret=first.identity_secret
            )
    return render(request, "web/setup.html", {"errors": errors, "values": values}, status=status)


@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("/login/")
    try:
        wanted = int(request.POST.get("workspace", ""))
    except ValueError:
        return HttpResponse("Choose a workspace from the list.", status=400)
    if wanted not in {w.pk for w in member_workspaces(request)}:
        return HttpResponse("You are not a member of that workspace.", status=403)
    choose_workspace(request, wanted)
    # Stay on the same kind of page, but a profile belongs to the old workspace.
    target = _safe_next(request)
    if target.startswith("/users/"):
        target = "/"
    return redirect(target.split("?")[0] if target.startswith("/?") else target)
