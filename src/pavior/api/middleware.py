"""Refuse oversized API bodies with 413 before anything reads them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from pavior.api.errors import error_response

# Paths with their own, larger limits (file uploads, tracking batches).
EXEMPT_PREFIXES = ("/api/v1/imports", "/api/v1/track", "/v1/")


def too_large(request: HttpRequest) -> HttpResponse | None:
    path = request.path
    if not path.startswith("/api/") or path.startswith(EXEMPT_PREFIXES):
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= limit:
        return None
    return error_response(
        413, "too_large", f"The request body is over the {limit // 1024} KB limit"
    )


class BodySizeLimitMiddleware:
    # Both sync and async, so that under ASGI it does not force Django to run
    # the middleware chain in a thread.
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        return too_large(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        response = too_large(request)
        if response is not None:
            return response
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)
