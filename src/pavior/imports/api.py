"""POST /imports (multipart) and GET /imports/{id}: the CSV import over the REST API."""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from pavior.core.errors import InvalidValue, NotFound
from pavior.imports import actions
from pavior.imports.models import Import
from pavior.workspaces.schemas import ErrorOut

router = Router(tags=["imports"])


def import_out(imp: Import) -> dict[str, Any]:
    progress = actions.read_progress(imp)
    total = max(int(progress.get("total") or imp.size or 1), 1)
    done = 1.0 if imp.status == "done" else min(int(progress.get("bytes", 0)) / total, 1.0)
    return {
        "id": imp.pk,
        "status": imp.status,
        "file": imp.filename,
        "mode": imp.mode,
        "encoding": imp.encoding,
        "delimiter": imp.delimiter,
        "mapping": {imp.header[int(k)]: v["attribute"] for k, v in imp.mapping.items()},
        "inverted": [imp.header[int(k)] for k, v in imp.mapping.items() if v.get("invert")],
        "reasons": {imp.header[int(k)]: v.get("reason", "") for k, v in imp.mapping.items()},
        "progress": {
            "fraction": round(done, 4),
            # An ended import's progress file is gone with its upload.
            "stage": progress.get("stage", imp.status),
            "rows": progress.get("rows", (imp.result or {}).get("rows", 0)),
        },
        "result": imp.result,
        "error": imp.error or None,
        "created_at": imp.created_at.isoformat(),
    }


@router.post("/imports", response={202: dict[str, Any], 404: ErrorOut, 422: ErrorOut})
def post_import(
    request: HttpRequest,
    file: File[UploadedFile],
    mapping: Form[str] = "{}",
    mode: Form[str] = "upsert",
    empty: Form[str] = "keep",
    day_first: Form[str] = "",
    delimiter: Form[str] = "",
) -> Any:
    """Upload a CSV and start importing it. mapping: a JSON object of column ->
    attribute name or {"attribute": name, "type": type} (to create it); other
    columns are mapped when their header names an attribute."""
    try:
        specs = json.loads(mapping or "{}")
    except ValueError as e:
        raise InvalidValue("mapping must be a JSON object", field="mapping") from e
    if not isinstance(specs, dict):
        raise InvalidValue("mapping must be a JSON object", field="mapping")
    if empty not in ("keep", "clear"):
        raise InvalidValue('empty is "keep" or "clear"', field="empty")
    order = {"": None, "true": True, "day": True, "false": False, "month": False}
    if day_first.strip().lower() not in order:
        raise InvalidValue('day_first is "true" or "false"', field="day_first")
    workspace = request.workspace  # type: ignore[attr-defined]
    with transaction.atomic():
        imp = actions.create_import(
            workspace,
            file.file,  # type: ignore[arg-type]
            file.name or "upload.csv",
            source="api",
            delimiter={"tab": "\t"}.get(delimiter, delimiter) or None,
        )
        actions.set_mapping(
            imp,
            specs,
            mode=mode,
            empty_clears=empty == "clear",
            day_first=order[day_first.strip().lower()],
        )
        actions.start_import(imp)
    imp.refresh_from_db()
    return Status(202, import_out(imp))


@router.get("/imports/{import_id}", response={200: dict[str, Any], 404: ErrorOut})
def get_import(request: HttpRequest, import_id: int) -> Any:
    imp = Import.objects.filter(pk=import_id, workspace=request.workspace).first()  # type: ignore[attr-defined]
    if imp is None:
        raise NotFound(f"No import {import_id}", field="id")
    return import_out(imp)
