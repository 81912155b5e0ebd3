"""A request id on every response and on every log line written while serving it.

pavior.asgi wraps both the Django application and the lean tracking intake
with `wrap`: it takes a sane incoming `X-Request-ID` (a proxy's, so one id
follows the request through both logs) or makes one, keeps it in a context
variable for the log filter below, and adds it to the response headers. An
exception that escapes the application is logged with its traceback and
answered with a JSON 500 naming the id; Django's own 500s (logged by the
`django.request` logger, configured in settings.LOGGING) show the id through
`server_error`, Django's handler500. docs/security.md ("What is logged").
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[..., Awaitable[None]]

HEADER = "X-Request-ID"
# Short and plain, so an id from outside can go into logs and headers as it is.
SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
JSON_PREFIXES = ("/api/", "/v1/")

_current: ContextVar[str] = ContextVar("pavior_request_id", default="-")
log = logging.getLogger("pavior.requests")


def current() -> str:
    """The id of the request being served ("-" outside a request)."""
    return _current.get()


# Made ids: this process's random prefix and a counter (unique across processes
# and restarts without a uuid4, whose os.urandom call every request paid for).
_prefix = uuid.uuid4().hex[:16]
_made = itertools.count(1)


def choose(incoming: str | None) -> str:
    if incoming and SANE.fullmatch(incoming):
        return incoming
    return f"{_prefix}{next(_made):016x}"  # 32 hex digits, like a uuid


class RequestIdFilter(logging.Filter):
    """Gives every log record a `request_id` (for the `%(request_id)s` format)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


def internal_error_message(request_id: str) -> str:
    return f"Internal error: the server log has the details under request id {request_id}"


def wrap(app: App, *, log_5xx: bool = False) -> App:
    """`app` with a request id; `log_5xx` also logs every 5xx it answers (for
    handlers whose failures are logged elsewhere, like the tracking writer's thread)."""

    async def with_request_id(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = choose(incoming)
        token = _current.set(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
                if log_5xx and message["status"] >= 500:
                    log.warning(
                        "%s %s answered %d", scope["method"], scope["path"], message["status"]
                    )
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        except Exception:
            log.exception("Internal error on %s %s", scope["method"], scope["path"])
            if started:
                raise  # half a response is out: the server closes the connection
            body = json.dumps(
                {
                    "error": {
                        "code": "internal_error",
                        "message": internal_error_message(request_id),
                        "field": None,
                    }
                }
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
            ]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        finally:
            _current.reset(token)

    return with_request_id


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500: the error already went to the log (django.request);
    tell the caller which id to look for."""
    request_id = current()
    message = internal_error_message(request_id)
    if request.path.startswith(JSON_PREFIXES):
        body = {"error": {"code": "internal_error", "message": message, "field": None}}
        return JsonResponse(body, status=500)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Server error</title>"
        f"<h1>Something went wrong on our side</h1><p>{escape(message)}.</p></html>"
    )
    return HttpResponse(page, status=500)
