"""The report page: pick a kind, an attribute and a scope; a chart, its table, the CSV.

The form is a GET so a report is a URL to bookmark or share. Its fields become
the same request body `POST /api/v1/reports` takes, run by the same
`report_for`, so the page, the CSV and the REST API show the same numbers.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pavior.core.attributes import AttributeDef, AttrType
from pavior.core.countries import country_name
from pavior.core.errors import PaviorError
from pavior.core.reports import DEFAULT_BINS, DEFAULT_LIMIT, KINDS
from pavior.segments.reports import Report, report_csv, report_for
from pavior.segments.saved import list_segments
from pavior.web import listing
from pavior.web.charts import bar_chart
from pavior.web.context import current_workspace

KIND_LABELS = {
    "breakdown": "Breakdown: users per value",
    "histogram": "Histogram: users per range of a number",
    "timeseries": "Time series: users per day, week or month",
}
_NUMBER_FIELDS = ("limit", "bins")
_FLOAT_FIELDS = ("min", "max")
_TEXT_FIELDS = ("interval", "from", "to")


def _number(raw: str) -> Any:
    """A form's number as JSON would carry it; text that is no number goes on as text,
    so the core's message names the field."""
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def scope_filter(params: QueryDict) -> tuple[Any, str]:
    """The report's filter from the page's scope fields, and an error if it is no JSON."""
    segment = params.get("segment", "").strip()
    if segment:
        picked = listing.form_int(segment)
        return {"segment": segment if picked is None else picked}, ""
    raw = params.get("filter", "").strip()
    if not raw:
        return None, ""
    try:
        return json.loads(raw), ""
    except ValueError:
        return None, "The filter in the address is not valid JSON"


def request_body(params: QueryDict) -> dict[str, Any]:
    """The page's query string as a `POST /reports` body (only the kind's own fields)."""
    kind = params.get("kind", "breakdown")
    # A first visit (or the Segments page's "Report" link) opens on users by country.
    attribute = params.get("attribute") or ("country" if kind == "breakdown" else "")
    body: dict[str, Any] = {"kind": kind, "attribute": attribute}
    wanted = {
        "breakdown": ("limit",),
        "histogram": ("bins", "min", "max"),
        "timeseries": ("interval", "from", "to"),
    }.get(kind, ())
    for key in wanted:
        raw = params.get(key, "").strip()
        if not raw:
            continue
        body[key] = _number(raw) if key in _NUMBER_FIELDS + _FLOAT_FIELDS else raw
    flt, _ = scope_filter(params)
    if flt is not None:
        body["filter"] = flt
    return body


def value_label(attr: AttributeDef, value: Any) -> str:
    if attr.name == "country" and isinstance(value, str):
        name = country_name(value)
        return name if name == value else f"{name} ({value})"
    if attr.type == AttrType.BOOLEAN:
        return "Yes" if value else "No"
    return str(value)


def _number_text(x: Any) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,.4g}"


def bucket_label(bucket: str, interval: str) -> str:
    day = date.fromisoformat(bucket)
    if interval == "month":
        return day.strftime("%b %Y")
    if interval == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return bucket


def table_rows(report: Report) -> list[dict[str, Any]]:
    """(label, count, kind) rows for the chart and the table: the same list for both."""
    attr = report.attribute
    rows: list[dict[str, Any]] = []
    if report.kind == "breakdown":
        for r in report.rows:
            rows.append({"label": value_label(attr, r["value"]), "count": r["count"], "kind": ""})
        if report.other:
            rows.append({"label": "Other values", "count": report.other, "kind": "other"})
        if report.unset:
            rows.append({"label": "Not set", "count": report.unset, "kind": "unset"})
    elif report.kind == "histogram":
        for r in report.rows:
            label = f"{_number_text(r['from'])} – {_number_text(r['to'])}"
            rows.append({"label": label, "count": r["count"], "kind": ""})
    else:
        interval = report.extra["interval"]
        for r in report.rows:
            label = bucket_label(r["bucket"], interval)
            rows.append({"label": label, "count": r["count"], "kind": ""})
    return rows


def chart_title(report: Report) -> str:
    name = report.attribute.rendered_name
    if report.kind == "breakdown":
        return f"Users by {name}"
    if report.kind == "histogram":
        return f"Users by {name} ({len(report.rows)} bins)"
    extra = report.extra
    return f"Users by {name}, per {extra['interval']} from {extra['from']} to {extra['to']}"


def _users_url(flt: Any) -> str:
    if not flt:
        return "/"
    return "/?" + urlencode({"filter": json.dumps(flt, separators=(",", ":"))})


@login_required
@require_GET
def reports_page(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    params = request.GET
    attrs = [
        a for a in listing.stored_attributes(ws) if a.type in KINDS["breakdown"] | {AttrType.DATE}
    ]
    kind = params.get("kind", "breakdown")
    context: dict[str, Any] = {
        "nav": "reports",
        "params": params,
        "kind": kind if kind in KINDS else "breakdown",
        "kinds": KIND_LABELS,
        "attrs_by_type": [
            (t.value, [a for a in attrs if a.type == t])
            for t in (AttrType.STRING, AttrType.NUMBER, AttrType.BOOLEAN, AttrType.DATE)
        ],
        "segments": list_segments(ws),
        "picked_segment": params.get("segment", ""),
        "default_limit": DEFAULT_LIMIT,
        "default_bins": DEFAULT_BINS,
    }
    status = 200
    flt, scope_error = scope_filter(params)
    context["filter_json"] = params.get("filter", "") if not params.get("segment") else ""
    if params.get("attribute") or kind == "breakdown":
        try:
            if scope_error:
                raise PaviorError(scope_error, field="filter")
            report = report_for(ws, request_body(params))
        except PaviorError as e:
            context["error"], context["error_field"] = e.message, e.field or ""
            status = 422
        else:
            rows = table_rows(report)
            context.update(
                report=report,
                rows=rows,
                chart=bar_chart(
                    chart_title(report), [(r["label"], r["count"], r["kind"]) for r in rows]
                ),
                title=chart_title(report),
                csv_url="/reports/export.csv?" + params.urlencode(),
                users_url=_users_url(flt),
            )
    return render(request, "web/reports.html", context, status=status)


@login_required
@require_GET
def export_report(request: HttpRequest) -> HttpResponse:
    """The page's report as CSV: the same `report_csv` as `POST /reports?format=csv`."""
    ws = current_workspace(request)
    _, scope_error = scope_filter(request.GET)
    try:
        if scope_error:
            raise PaviorError(scope_error, field="filter")
        report = report_for(ws, request_body(request.GET))
    except PaviorError as e:
        return HttpResponse(f"Cannot export: {e.message}", status=422, content_type="text/plain")
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    name = f"{report.kind}-{report.attribute.name}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
