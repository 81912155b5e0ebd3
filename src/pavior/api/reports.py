"""/reports: breakdown, histogram, time series over an optional filter (SPEC §11)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router

from pavior.api.schemas import ErrorOut
from pavior.core.errors import InvalidValue
from pavior.core.json_input import parse_json
from pavior.segments.reports import report_csv, report_for

router = Router(tags=["reports"])

_BODY = {
    "type": "object",
    "required": ["kind", "attribute"],
    "properties": {
        "kind": {"enum": ["breakdown", "histogram", "timeseries"]},
        "attribute": {"type": "string"},
        "filter": {"type": "object", "description": 'A filter; {"segment": ID} for a segment'},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 25},
        "bins": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "interval": {"enum": ["day", "week", "month"], "default": "day"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
    },
}


@router.post(
    "/reports",
    response={200: dict[str, Any], 404: ErrorOut, 422: ErrorOut},
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _BODY}}}},
)
def post_report(request: HttpRequest, format: str = "json") -> Any:
    if format not in ("json", "csv"):
        raise InvalidValue(f'format is "json" or "csv"; got "{format[:20]}"', field="format")
    report = report_for(request.workspace, parse_json(request.body or b"null"))  # type: ignore[attr-defined]
    if format == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        name = f"{report.kind}-{report.attribute.name}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return report.as_json()
