"""The import wizard pages (under /imports/): upload -> map -> validate -> import ->
result, and the history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pavior.core.attributes import AttrType
from pavior.core.csv_rules import DELIMITER_NAMES
from pavior.core.errors import PaviorError
from pavior.imports import actions
from pavior.imports.api import import_out
from pavior.imports.models import Import, Status
from pavior.web.context import current_workspace
from pavior.web.streaming import file_response

TYPES = [t.value for t in AttrType]


def _get(request: HttpRequest, pk: int) -> Import:
    imp = Import.objects.filter(pk=pk, workspace=current_workspace(request)).first()
    if imp is None:
        raise Http404("No such import")
    return imp


@login_required
def index(request: HttpRequest) -> HttpResponse:
    workspace = current_workspace(request)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV file to upload"
        else:
            try:
                imp = actions.create_import(
                    workspace, upload, upload.name or "upload.csv", user=request.user
                )
                return redirect("imports:map", pk=imp.pk)
            except PaviorError as e:
                error = e.message
    history = Import.objects.filter(workspace=workspace).exclude(status=Status.UPLOADED)[:50]
    return render(
        request,
        "imports/index.html",
        {"history": history, "error": error, "nav": "imports"},
        status=422 if error else 200,
    )


@login_required
def map_columns(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if imp.status != Status.UPLOADED:
        return redirect("imports:detail", pk=imp.pk)
    error = None
    if request.method == "POST" and request.POST.get("delimiter") not in (None, imp.delimiter):
        try:
            actions.set_format(imp, delimiter=request.POST["delimiter"], encoding=None)
        except PaviorError as e:
            error = e.message
    elif request.method == "POST":
        specs: dict[str, Any] = {}
        for i in range(len(imp.header)):
            choice = request.POST.get(f"col_{i}", "skip")
            if choice == "new":
                specs[f"#{i + 1}"] = {
                    "attribute": request.POST.get(f"new_name_{i}", "").strip(),
                    "type": request.POST.get(f"new_type_{i}", "string"),
                }
            elif choice.startswith("attr:"):
                specs[f"#{i + 1}"] = choice[5:]
            elif choice.startswith("not:"):  # a boolean read inverted ("Unsubscribed")
                specs[f"#{i + 1}"] = {"attribute": choice[4:], "invert": True}
            else:
                specs[f"#{i + 1}"] = None
        try:
            actions.set_mapping(
                imp,
                specs,
                mode=request.POST.get("mode", "upsert"),
                empty_clears=request.POST.get("empty") == "clear",
                auto=False,
            )
            actions.validate_import(imp)
            return redirect("imports:validate", pk=imp.pk)
        except PaviorError as e:
            error = e.message
    try:
        proposal = actions.propose_mapping(imp)
    except PaviorError as e:
        # A broken file (an unclosed quote in its first rows): say so, map nothing.
        error, proposal = e.message, []
    saved = {int(k): v for k, v in (imp.mapping or {}).items()}
    for p in proposal:
        if p["index"] in saved:
            p.update(
                attribute=saved[p["index"]]["attribute"],
                type=saved[p["index"]]["type"],
                new=saved[p["index"]]["new"],
                invert=saved[p["index"]].get("invert", False),
            )
    context = {
        "imp": imp,
        "columns": proposal,
        "choices": actions.attribute_choices(imp.workspace),
        "types": TYPES,
        "delimiters": DELIMITER_NAMES,
        "error": error,
        "nav": "imports",
    }
    return render(request, "imports/map.html", context, status=422 if error else 200)


@login_required
def validate(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    if imp.status != Status.UPLOADED:
        return redirect("imports:detail", pk=imp.pk)
    if not imp.mapping:
        return redirect("imports:map", pk=imp.pk)
    error = None
    if request.method == "POST":
        order = request.POST.get("date_order")
        if order in ("day", "month"):
            imp.day_first = order == "day"
        imp.empty_clears = request.POST.get("empty", "keep") == "clear"
        imp.save(update_fields=["day_first", "empty_clears"])
        try:
            actions.validate_import(imp)
        except PaviorError as e:
            error = e.message
    elif imp.validation is None:
        try:
            actions.validate_import(imp)
        except PaviorError as e:
            error = e.message
    report = imp.validation or {}
    context = {
        "imp": imp,
        "report": report,
        "needs_order": report.get("needs_date_order") and imp.day_first is None,
        "error": error,
        "nav": "imports",
    }
    return render(request, "imports/validate.html", context)


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    try:
        actions.start_import(imp)
    except PaviorError as e:
        messages.error(request, e.message)
        return redirect("imports:validate", pk=imp.pk)
    return redirect("imports:detail", pk=imp.pk)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    imp = _get(request, pk)
    context = {
        "imp": imp,
        "info": import_out(imp),
        "nav": "imports",
        "running": imp.status in (Status.QUEUED, Status.RUNNING),
    }
    return render(request, "imports/detail.html", context)


@login_required
def status(request: HttpRequest, pk: int) -> HttpResponse:
    return JsonResponse(import_out(_get(request, pk)))


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    actions.cancel_import(_get(request, pk))
    return redirect("imports:detail", pk=pk)


@login_required
def rejected(request: HttpRequest, pk: int) -> HttpResponseBase:
    imp = _get(request, pk)
    path = actions.rejects_path(imp)
    if imp.status != Status.DONE or not path.exists():
        raise Http404(
            "No rejected rows for this import (they are kept for "
            f"{actions.REJECTS_KEPT_FOR.days} days after it ends)"
        )
    name = imp.filename.rsplit(".", 1)[0] + "-rejected.csv"
    return file_response(path, content_type="text/csv; charset=utf-8", filename=name)
