"""One user's profile: attributes, live state, activity, inline edits, erasure."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pavior.core.attributes import BUILTINS, AttributeDef, AttrType, Trust
from pavior.core.dates import from_local_input, to_local
from pavior.core.errors import PaviorError
from pavior.people.actions import erase_user, upsert_user
from pavior.people.models import Person
from pavior.people.queries import all_attributes
from pavior.web import display
from pavior.web.context import current_workspace
from pavior.workspaces.models import Workspace


def _person(request: HttpRequest, pk: int) -> tuple[Workspace, Person]:
    ws = current_workspace(request)
    person = Person.objects.filter(workspace=ws, pk=pk).first()
    if person is None:
        raise Http404("No such user in this workspace")
    return ws, person


def live_state(ws: Workspace, person: Person) -> Any:
    """The user's LiveState (attributes and last update), else None."""
    from pavior.tracking.live import get_live_state

    try:
        return get_live_state(ws.pk, person.external_id)
    except Exception:  # noqa: BLE001 - a cache outage must not take the profile down
        return None


def _updated(when: Any, tz: Any) -> dict[str, str]:
    """'Updated 12 seconds ago', with the exact time in the workspace zone."""
    from pavior.tracking import clock

    seconds = max(int((clock.now() - when).total_seconds()), 0)
    ago = f"{seconds} second{'' if seconds == 1 else 's'} ago" if seconds < 60 else None
    local = to_local(when, tz)
    return {
        "iso": when.isoformat(),
        "text": ago or display.relative(when, clock.now()),
        "title": f"{local:%Y-%m-%d %H:%M:%S} ({tz.key})",
    }


def recent_activity(ws: Workspace, person: Person, tz: Any) -> list[dict[str, Any]]:
    from pavior.tracking.queries import recent_events

    when = BUILTINS["last_seen_at"]
    return [
        {
            "event": e,
            "when": display.cell(e.at, when, tz),
            "url": display.url_with_breaks(str(e.url)) if e.url else "",
        }
        for e in recent_events(ws, person, limit=20)
    ]


def _attr_item(
    person: Person,
    attr: AttributeDef,
    tz: Any,
    *,
    value_text: str | None = None,
    error: str = "",
) -> dict[str, Any]:
    raw = display.raw_value(person, attr)
    return {
        "attr": attr,
        "cell": display.cell(raw, attr, tz),
        "edit_value": display.edit_text(raw, attr, tz) if value_text is None else value_text,
        "error": error,
        "editable": not attr.builtin and not attr.archived,
    }


def email_section(person: Person, tz: Any) -> dict[str, Any]:
    """Messages shown or sent, the subscription's history, why no email (SPEC §7, §13)."""
    from pavior.messaging.person_history import email_history

    history = email_history(person)
    when = BUILTINS["last_seen_at"]

    def at(value: Any) -> Any:
        return display.cell(value, when, tz)

    return {
        "deliveries": [
            {"line": d, "when": at(d.at), "unsubscribed": at(d.unsubscribed_at)}
            for d in history.deliveries
        ],
        "more_deliveries": history.more_deliveries,
        "changes": [{"line": c, "when": at(c.at)} for c in history.changes],
        "blockers": [{"line": b, "when": at(b.at)} for b in history.blockers],
    }


def _profile_context(ws: Workspace, person: Person) -> dict[str, Any]:
    tz = display.workspace_tz(ws)
    attrs = [a for a in all_attributes(ws) if not a.live]
    live = live_state(ws, person)
    live_items = []
    if live:
        for a in all_attributes(ws):
            if a.live and a.name in live.attributes:
                value = live.attributes[a.name]
                live_items.append({"attr": a, "cell": display.cell(value, a, tz)})
    return {
        "nav": "users",
        "person": person,
        "initials": display.initials(person),
        "builtin_items": [_attr_item(person, a, tz) for a in attrs if a.builtin],
        "custom_items": [_attr_item(person, a, tz) for a in attrs if not a.builtin],
        "live_items": live_items,
        "live_updated": _updated(live.updated_at, tz) if live else None,
        "activity": recent_activity(ws, person, tz),
        "email": email_section(person, tz),
        "last_seen": display.cell(person.last_seen_at, BUILTINS["last_seen_at"], tz),
        "tz_name": tz.key,
    }


@login_required
def profile(request: HttpRequest, pk: int) -> HttpResponse:
    ws, person = _person(request, pk)
    return render(request, "web/profile.html", _profile_context(ws, person))


@login_required
@require_POST
def edit_attribute(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Set (or clear, when empty) one custom value with the secret API's trust."""
    ws, person = _person(request, pk)
    attr = next((a for a in all_attributes(ws) if a.name == name and not a.builtin), None)
    if attr is None:
        raise Http404("No such custom attribute")
    text = request.POST.get("value", "")
    value: Any = text.strip() if text.strip() else None
    if attr.type is AttrType.DATE and value is not None:
        # The date/time field sends wall time without a zone: the workspace's.
        value = from_local_input(value, ws.timezone) or value
    error = ""
    try:
        upsert_user(ws, {"id": person.external_id, name: value}, trust=Trust.SECRET)
    except PaviorError as e:
        error = e.message
    person.refresh_from_db()
    tz = display.workspace_tz(ws)
    item = _attr_item(person, attr, tz, value_text=text if error else None, error=error)
    status = 422 if error else 200
    if request.headers.get("HX-Request"):
        return render(
            request, "web/_attr_row.html", {"item": item, "person": person}, status=status
        )
    if error:
        context = _profile_context(ws, person)
        context["custom_items"] = [
            item if i["attr"].name == name else i for i in context["custom_items"]
        ]
        return render(request, "web/profile.html", context, status=status)
    messages.success(request, f"{attr.rendered_name} saved.")
    return redirect(f"/users/{person.pk}/#attr-{name}")


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    ws, person = _person(request, pk)
    label = person.name or person.email or person.external_id
    if request.method == "POST":
        erase_user(ws, person.external_id)
        messages.success(request, f"{label} and all their activity were erased.")
        return redirect("/")
    return render(request, "web/erase.html", {"nav": "users", "person": person, "label": label})
