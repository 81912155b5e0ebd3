"""Bearer secret-key authentication for the REST API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from pavior import rate_limits
from pavior.workspaces.actions import workspace_for_api_key


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        workspace = workspace_for_api_key(token)
        if workspace is not None:
            if retry := rate_limits.check_api_key(token):
                raise rate_limits.RateLimited(retry, "API key")
            request.workspace = workspace  # type: ignore[attr-defined]
        return workspace
