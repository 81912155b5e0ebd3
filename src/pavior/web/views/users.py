"""The users list: columns, filter bar, sort, search, pagination, CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from pavior.core.attributes import AttributeDef, render_name
from pavior.core.csv_rules import neutralise
from pavior.core.errors import PaviorError
from pavior.people.actions import create_attribute
from pavior.people.queries import json_value
from pavior.segments.queries import search_people
from pavior.segments.saved import list_segments, segment_resolver
from pavior.web import display, listing
from pavior.web.context import current_workspace
from pavior.web.streaming import paged_response
from pavior.web.views.auth import setup
from pavior.workspaces.actions import no_team_yet

TYPES = ["string", "number", "date", "boolean"]


def home(request: HttpRequest) -> HttpResponse:
    """'/' is the first-run setup until a team member exists, then the users list."""
    if no_team_yet():
        return setup(request)
    if not request.user.is_authenticated:
        return redirect(f"/login/?next={request.get_full_path()}")
    if request.method != "GET":
        return HttpResponse("Use GET for the users list.", status=405)
    return users_list(request)


def _list_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    ws = current_workspace(request)
    attrs = listing.stored_attributes(ws)
    by_name = {a.name: a for a in attrs}
    # Filter bar edits arrive as form rows; turn them into the canonical JSON first.
    state = listing.read_state(request.GET, attrs, segment_resolver(ws))
    columns = [by_name[n] for n in listing.chosen_columns(request.user, ws, attrs)]
    tz = display.workspace_tz(ws)
    page = None
    if not state.error:
        try:
            page = search_people(
                ws,
                state.node,
                state.sort,
                limit=listing.PAGE_SIZE,
                cursor=state.cursor or None,
                search=state.search or None,
                restrict=_restrict(ws, state),
            )
        except PaviorError as e:
            state.error, state.error_field = e.message, e.field or "cursor"
    people = []
    for person in page.people if page else []:
        people.append(
            display.row_html(
                person.pk,
                person.name or person.email or person.external_id,
                [display.cell(display.raw_value(person, a), a, tz) for a in columns],
            )
        )
    chosen = {a.name for a in columns}
    chooser = columns + [a for a in attrs if a.name not in chosen]
    bar = listing.filter_bar(
        state.rows, state.join, attrs, add_row=bool(request.GET.get("add_condition"))
    )
    return {
        "nav": "users",
        "workspace": ws,
        "state": state,
        "columns": columns,
        "people": people,
        "total": page.total if page else 0,
        "next_cursor": page.next_cursor if page else None,
        "chooser": chooser,
        "chosen": chosen,
        **bar,
        "clear_url": "/" if state.filter_json or state.search or state.suppressed else "",
        "types": TYPES,
        "sort_links": _sort_links(state, columns),
        "export_query": state.query(),
        "has_any_user": bool(page and page.total) or ws.people.exists(),
        "segments": list_segments(ws),
        **extra,
    }


def _restrict(ws: Any, state: listing.ListState) -> Any:
    """The users list's "Email suppressed" choice, as a condition on people."""
    from pavior.messaging.suppressions import suppressed_people

    return suppressed_people(ws) if state.suppressed else None


def _sort_links(state: listing.ListState, columns: list[AttributeDef]) -> list[dict[str, Any]]:
    links = []
    for attr in columns:
        current = state.sort.direction if state.sort and state.sort.attribute == attr else None
        direction = "desc" if current == "asc" else "asc"
        links.append(
            {
                "attr": attr,
                "query": state.query(sort=attr.name, dir=direction),
                "aria": {"asc": "ascending", "desc": "descending"}.get(current or "", ""),
            }
        )
    return links


@login_required
def users_list(request: HttpRequest) -> HttpResponse:
    if "fa" in request.GET or "join" in request.GET:
        return _apply_filter_form(request)
    if "segment" in request.GET:
        return _pick_segment(request)
    context = _list_context(request)
    status = 400 if context["state"].error else 200
    return render(request, "web/users.html", context, status=status)


def _apply_filter_form(request: HttpRequest) -> HttpResponse:
    """Fold the filter bar's rows into `?filter=<json>` and redirect to that canonical URL."""
    ws = current_workspace(request)
    lookup = {a.name: a for a in listing.stored_attributes(ws)}.get
    data = listing.filter_from_form(request.GET, lookup)
    state = listing.ListState(
        search=request.GET.get("q", "").strip(),
        suppressed=request.GET.get("suppressed") == "1",
    )
    state.filter_json = data
    extra = {}
    if request.GET.get("sort"):
        extra = {"sort": request.GET["sort"], "dir": request.GET.get("dir", "asc")}
    if request.GET.get("add_condition"):
        extra["add_condition"] = "1"
    query = state.query(**extra)
    return redirect(f"/?{query}#filters" if query else "/")


def _pick_segment(request: HttpRequest) -> HttpResponse:
    """The segment picker: show that segment's users (the filter bar starts empty)."""
    picked = request.GET.get("segment", "")
    state = listing.ListState(
        search=request.GET.get("q", "").strip(),
        suppressed=request.GET.get("suppressed") == "1",
    )
    state.filter_json = listing.join_segment(listing.form_int(picked), None)
    query = state.query()
    return redirect(f"/?{query}" if query else "/")


@login_required
@require_POST
def save_columns(request: HttpRequest) -> HttpResponse:
    """Save the chooser: checked columns in the order the form lists them.

    "Move up/down" buttons submit the same form with `move=<name>:up|down`, so
    reordering works by keyboard and without JavaScript.
    """
    ws = current_workspace(request)
    known = {a.name for a in listing.stored_attributes(ws)}
    order = [n for n in request.POST.getlist("order") if n in known]
    shown = set(request.POST.getlist("show"))
    move = request.POST.get("move", "")
    if ":" in move:
        name, where = move.rsplit(":", 1)
        if name in order:
            i = order.index(name)
            j = i - 1 if where == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
    listing.save_columns(request.user, ws, [n for n in order if n in shown])
    back = request.POST.get("back", "")
    anchor = "#columns" if move else ""
    return redirect(f"/?{back}{anchor}" if back else f"/{anchor}")


@login_required
@require_POST
def add_attribute(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    name = request.POST.get("name", "").strip()
    attr_type = request.POST.get("type", "")
    try:
        created = create_attribute(ws, name, attr_type)
    except PaviorError as e:
        context = _list_context(
            request,
            **display.new_attribute_form(name, attr_type, e),
            open_chooser=True,
        )
        return render(request, "web/users.html", context, status=422)
    attrs = listing.stored_attributes(ws)
    columns = listing.chosen_columns(request.user, ws, attrs)
    listing.save_columns(request.user, ws, [*columns, created.name])
    back = request.POST.get("back", "")
    return redirect(f"/?{back}" if back else "/")


@login_required
@require_GET
def preview_name(request: HttpRequest) -> HttpResponse:
    """The rendered name of what is being typed, from the one rule in core."""
    name = request.GET.get("name", "").strip()[:200]
    return render(
        request,
        "web/_name_preview.html",
        {"rendered": render_name(name) if name else ""},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponseBase:
    ws = current_workspace(request)
    attrs = listing.stored_attributes(ws)
    by_name = {a.name: a for a in attrs}
    state = listing.read_state(request.GET, attrs, segment_resolver(ws))
    if state.error:
        return HttpResponse(f"Cannot export: {state.error}", status=400, content_type="text/plain")
    everything = request.GET.get("columns") == "all"
    chosen = (
        [a.name for a in attrs] if everything else listing.chosen_columns(request.user, ws, attrs)
    )
    columns = [by_name["id"]] + [by_name[n] for n in chosen if n != "id"]
    # The full export is for moving users elsewhere: API names, and custom
    # attributes as "name:type" so an import creates them with the same type.
    header = [
        (a.name if a.builtin else f"{a.name}:{a.type.value}") if everything else a.rendered_name
        for a in columns
    ]
    writer = csv.writer(_Echo())

    def page(cursor: str | None) -> tuple[list[str], str | None]:
        # One page at a time over the same query: memory stays flat for any size.
        found = search_people(
            ws,
            state.node,
            state.sort,
            limit=1000,
            cursor=cursor,
            search=state.search or None,
            with_total=False,
            restrict=_restrict(ws, state),
        )
        lines = [writer.writerow([_csv_value(p, a) for a in columns]) for p in found.people]
        return lines, found.next_cursor or None

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    kind = "users-all" if everything else "users"
    return paged_response(
        "\ufeff" + writer.writerow(header),
        page,
        content_type="text/csv; charset=utf-8",
        filename=f"{kind}-{stamp}.csv",
    )


def _csv_value(person: Any, attr: AttributeDef) -> str:
    value = json_value(attr.type, display.raw_value(person, attr))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(str(value))
