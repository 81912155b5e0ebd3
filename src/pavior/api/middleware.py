"""Refuse oversized API bodies with 413 before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from pavior.api.errors import error_response

# Paths with their own, larger limits (file uploads, tracking batches).
EXEMPT_PREFIXES = ("/api/v1/imports", "/api/v1/track", "/v1/")


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith("/api/") and not path.startswith(EXEMPT_PREFIXES):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return error_response(
                    413, "too_large", f"The request body is over the {limit // 1024} KB limit"
                )
        return self.get_response(request)
