"""Attribute settings: list, create, archive/restore, lock, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pavior.core.attributes import BUILTINS, lockable, render_name
from pavior.core.errors import NotFound, PaviorError
from pavior.people import actions
from pavior.people.models import AttributeDefinition
from pavior.people.queries import all_attributes, deletable_definition
from pavior.web import display
from pavior.web.context import current_workspace
from pavior.web.views.users import TYPES


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    ws = current_workspace(request)
    created = {
        d.name: d.created_at
        for d in AttributeDefinition.objects.filter(workspace=ws).only("name", "created_at")
    }
    rows = []
    for a in all_attributes(ws):
        rows.append(
            {
                "attr": a,
                "created": created.get(a.name),
                "lockable": lockable(a.name),
            }
        )
    return {
        "nav": "attributes",
        "builtin_rows": [r for r in rows if r["attr"].builtin],  # type: ignore[union-attr]
        "custom_rows": [r for r in rows if not r["attr"].builtin],  # type: ignore[union-attr]
        "types": TYPES,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def attributes_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ws = current_workspace(request)
        name = request.POST.get("name", "").strip()
        attr_type = request.POST.get("type", "")
        try:
            actions.create_attribute(ws, name, attr_type)
        except PaviorError as e:
            context = _context(
                request,
                **display.new_attribute_form(name, attr_type, e),
            )
            return render(request, "web/attributes.html", context, status=422)
        messages.success(request, f'Attribute "{render_name(name)}" created.')
        return redirect("/attributes/")
    return render(request, "web/attributes.html", _context(request))


@login_required
@require_POST
def change_attribute(request: HttpRequest, name: str) -> HttpResponse:
    """Archive / restore a custom attribute, or lock / unlock any writable one."""
    ws = current_workspace(request)
    what = request.POST.get("action", "")
    rendered = BUILTINS[name].rendered_name if name in BUILTINS else render_name(name)
    try:
        if what in ("lock", "unlock"):
            writable = what == "unlock"
            actions.change_attribute(ws, name, browser_writable=writable)
            note = (
                "can be written by the browser again"
                if writable
                else ("is locked: only the secret API and imports may write it")
            )
        elif what in ("archive", "restore"):
            actions.change_attribute(ws, name, archived=what == "archive")
            note = "archived; its values are kept" if what == "archive" else "restored"
        else:
            return HttpResponse("Unknown action; use archive, restore, lock or unlock.", status=400)
    except PaviorError as e:
        messages.error(request, e.message)
        return redirect("/attributes/")
    messages.success(request, f"{rendered} {note}.")
    return redirect("/attributes/")


@login_required
@require_http_methods(["GET", "POST"])
def delete_attribute(request: HttpRequest, name: str) -> HttpResponse:
    ws = current_workspace(request)
    try:
        d = deletable_definition(ws, name)
    except NotFound as e:
        raise Http404(e.message) from e
    except PaviorError as e:  # a built-in: the same refusal as the API's
        messages.error(request, e.message)
        return redirect("/attributes/")
    count = ws.people.filter(**{"custom__has_key": name}).count()
    in_use = actions.attribute_users(ws, name)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm_name", "") != name:
            error = f'Type "{name}" exactly to confirm.'
        else:
            try:
                actions.delete_attribute(ws, name)
            except PaviorError as e:
                messages.error(request, e.message)
                return redirect("/attributes/")
            messages.success(request, f"{render_name(name)} and its values were deleted.")
            return redirect("/attributes/")
    return render(
        request,
        "web/attribute_delete.html",
        {
            "nav": "attributes",
            "definition": d,
            "rendered": render_name(name),
            "count": count,
            "in_use": in_use,
            "error": error,
        },
        status=400 if error else 200,
    )
