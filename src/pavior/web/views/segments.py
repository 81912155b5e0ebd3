"""The Segments page: saved filters with live counts; save, rename, delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pavior.core.errors import PaviorError
from pavior.segments import actions
from pavior.segments.models import Segment
from pavior.segments.saved import get_segment, list_segments, segment_count
from pavior.web.context import current_workspace


def users_url(segment_id: int) -> str:
    """The users list filtered by the segment (the same filter a report uses)."""
    return "/?" + urlencode({"filter": json.dumps({"segment": segment_id}, separators=(",", ":"))})


def _row(ws: Any, segment: Segment) -> dict[str, Any]:
    try:
        count: int | None = segment_count(ws, segment)
        problem = ""
    except PaviorError as e:  # e.g. an attribute it names was deleted since
        count, problem = None, e.message
    return {
        "segment": segment,
        "count": count,
        "problem": problem,
        "users_url": users_url(segment.pk),
        "report_url": "/reports/?" + urlencode({"segment": segment.pk}),
    }


@login_required
@require_http_methods(["GET"])
def segments_page(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    rows = [_row(ws, s) for s in list_segments(ws)]
    return render(request, "web/segments.html", {"nav": "segments", "rows": rows})


@login_required
@require_POST
def save_segment(request: HttpRequest) -> HttpResponse:
    """ "Save as segment" on the users list: the filter on screen, under a new name."""
    ws = current_workspace(request)
    raw = request.POST.get("filter", "")
    back = "/?" + urlencode({"filter": raw}) if raw else "/"
    try:
        data = json.loads(raw) if raw else None
        segment = actions.create_segment(ws, request.POST.get("name", ""), data)
    except ValueError:
        messages.error(request, "The filter to save is not valid JSON.")
        return redirect(back)
    except PaviorError as e:
        messages.error(request, f"Not saved: {e.message}")
        return redirect(back)
    messages.success(request, f'Segment "{segment.name}" saved.')
    return redirect(users_url(segment.pk))


@login_required
@require_POST
def rename_segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    ws = current_workspace(request)
    try:
        old = get_segment(ws, segment_id).name
        segment = actions.update_segment(ws, segment_id, name=request.POST.get("name", ""))
    except PaviorError as e:
        messages.error(request, f"Not renamed: {e.message}")
        return redirect("/segments/")
    messages.success(request, f'Segment "{old}" renamed to "{segment.name}".')
    return redirect("/segments/")


@login_required
@require_http_methods(["GET", "POST"])
def delete_segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    ws = current_workspace(request)
    try:
        segment = get_segment(ws, segment_id)
    except PaviorError as e:
        messages.error(request, e.message)
        return redirect("/segments/")
    error = ""
    if request.method == "POST":
        try:
            actions.delete_segment(ws, segment_id)
        except PaviorError as e:
            error = e.message
        else:
            messages.success(request, f'Segment "{segment.name}" deleted.')
            return redirect("/segments/")
    return render(
        request,
        "web/segment_delete.html",
        {"nav": "segments", "segment": segment, "error": error},
        status=409 if error else 200,
    )
