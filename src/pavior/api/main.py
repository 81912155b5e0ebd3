"""The REST API at /api/v1 (OpenAPI document at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from pavior.api import attributes, errors, messages, reports, segments, users, workspace
from pavior.api.auth import ApiKeyAuth
from pavior.core.json_input import parse_json
from pavior.imports import api as imports_api
from pavior.tracking import api as tracking_api


class JsonParser(Parser):
    """Request bodies through the one JSON reader (depth, NUL and surrogate limits)."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


api = NinjaAPI(
    title="Pavior API",
    version="1",
    description="People data: attributes, users, filters. Authenticate with "
    "'Authorization: Bearer <api_key>'.",
    auth=ApiKeyAuth(),
    urls_namespace="api-v1",
    parser=JsonParser(),
)
errors.install(api)
api.add_router("", attributes.router)
api.add_router("", users.router)
api.add_router("", workspace.router)
# Each package's api.py defines its own Router; this is the one place that mounts
# them (imports point down: api knows the packages, they do not know api).
api.add_router("", tracking_api.router)
api.add_router("", imports_api.router)
api.add_router("", segments.router)
api.add_router("", reports.router)
api.add_router("", messages.router)
