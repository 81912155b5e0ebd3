"""The intake endpoints as one small pure-ASGI application, outside Django.

`POST /api/v1/track` (the snippet) and the Segment-compatible `POST /v1/batch`,
`/v1/identify`, `/v1/track`, `/v1/page`, `/v1/screen` are answered here;
pavior.asgi sends every other path to Django. They need none of Django's
middleware (sessions, auth, CSRF, messages, static files): they are
cookie-less, CORS-open and answer JSON. There is no other implementation of
them: every batch is parsed here (pavior.tracking.intake, .segment), stored
through the group-commit writer (pavior.tracking.writer) and answered only
once committed.

Answers: 204 to a CORS preflight; 405 JSON with Allow to another method; 413
JSON past the body limit; 400 JSON naming the problem for a bad body; 503
JSON with Retry-After when storage fails or the writer's queue is full.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pavior import rate_limits
from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.tracking import clock
from pavior.tracking.actions import Identity, IngestResult
from pavior.tracking.geoip import Place, get_geoip
from pavior.tracking.intake import MAX_BATCH_BYTES, parse_request
from pavior.tracking.segment import authenticate, parse_segment
from pavior.tracking.writer import Job, writer
from pavior.workspaces.addresses import client_ip

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRACK = "/api/v1/track"
# Segment's endpoints and the call type each implies (None: a batch of any).
SEGMENT = {
    "/v1/batch": None,
    "/v1/identify": "identify",
    "/v1/track": "track",
    "/v1/page": "page",
    "/v1/screen": "screen",
}
PATHS = frozenset({TRACK, *SEGMENT})
RETRY_AFTER_SECONDS = 5

# For any origin and without credentials: the snippet runs on customers' sites.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, Authorization",
    "Access-Control-Max-Age": "86400",
    # The snippet waits as long as a 429 or 503 says.
    "Access-Control-Expose-Headers": "Retry-After",
}
_CORS = [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]
_JSON = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")]


class MethodNotAllowed(PaviorError):
    code = "method_not_allowed"
    status = 405


class TooManyRequests(PaviorError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(rate_limits.RateLimited(retry_after, what).message)
        self.retry_after = retry_after


async def _check_rate(key: str, trust: Trust, request: Request) -> None:
    """The limits of pavior.rate_limits: per secret key, or per app_id and per
    client address for calls made from browsers (counted without blocking the
    event loop, together with the process's other calls of the moment)."""
    if trust is Trust.SECRET:
        retry = await rate_limits.check_api_key_async(key)
    else:
        retry = await rate_limits.check_tracking_async(key, request.ip())
    if retry:
        raise TooManyRequests(retry, "write key or address")


@dataclass
class Request:
    path: str
    headers: dict[bytes, bytes]
    body: bytes  # at most MAX_BATCH_BYTES + 1 bytes: enough to know it is too long
    remote: str
    received_at: datetime

    def header(self, name: str) -> str:
        return self.headers.get(name.encode(), b"").decode("latin-1")

    def ip(self) -> str:
        """The client's address (X-Forwarded-For only from a trusted proxy)."""
        return client_ip(self.remote, self.header("x-forwarded-for"))

    def place(self) -> Place | None:
        """GeoIP of the client's address."""
        ip = self.ip()
        return get_geoip().lookup(ip) if ip else None


def handles(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] in PATHS


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    method = scope["method"]
    if method == "OPTIONS":
        await _send(send, 204, None)
        return
    if method != "POST":
        error = MethodNotAllowed(f"{method} is not allowed here; POST to {scope['path']}")
        await _send_error(send, error, [(b"allow", b"POST, OPTIONS")])
        return
    received_at = clock.now()
    client = scope.get("client")
    request = Request(
        path=scope["path"],
        headers=dict(scope["headers"]),
        # One byte past the cap is enough for read_body to answer 413 with its message.
        body=await _read(receive, MAX_BATCH_BYTES + 1),
        remote=client[0] if client else "",
        received_at=received_at,
    )
    try:
        if request.path == TRACK:
            body = await _track(request)
        else:
            body = await _segment(request, SEGMENT[request.path])
    except PaviorError as e:
        await _send_error(send, e)
        return
    await _send(send, 200, body)


async def _track(request: Request) -> dict[str, Any]:
    """The snippet's batch: one user, browser trust, the workspace from app_id."""
    app_id, identity, events = parse_request(
        request.body, request.header("content-encoding"), request.received_at
    )
    await _check_rate(app_id, Trust.BROWSER, request)
    job = Job(app_id, identity, events, request.received_at, request.place())
    (outcome,) = await writer.write(job)
    if isinstance(outcome, PaviorError):
        raise outcome
    return {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "verified": outcome.verified,
        "errors": outcome.errors,
        "warnings": outcome.warnings,
    }


async def _segment(request: Request, kind: str | None) -> dict[str, Any]:
    """A Segment call: one job per user it names, all through the writer."""
    call = parse_segment(
        request.body,
        request.header("content-encoding"),
        request.header("authorization"),
        kind,
        request.received_at,
    )
    await _check_rate(call.key, call.trust, request)
    place = request.place() if call.trust is Trust.BROWSER else None
    # The jobs of one call share one look-up of the write key.
    key_check = functools.cache(authenticate)
    jobs = [
        Job(call.key, identity, events, request.received_at, place, call.trust, key_check)
        for identity, events in call.users.values()
    ]
    # Nothing to record still needs a valid write key.
    jobs = jobs or [Job(call.key, Identity(), [], request.received_at, None, call.trust, key_check)]
    outcomes = await writer.write(*jobs)
    errors = [o for o in outcomes if isinstance(o, PaviorError)]
    if errors:
        # A 503 first: the client sends the whole call again, and the users
        # already stored count its messages as duplicates.
        raise min(errors, key=lambda e: e.status != 503)
    results = [o for o in outcomes if isinstance(o, IngestResult)]
    return {
        "success": True,
        "accepted": sum(r.accepted for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "errors": [e for r in results for e in r.errors],
        "warnings": call.warnings + [w for r in results for w in r.warnings],
    }


async def _read(receive: Receive, limit: int) -> bytes:
    """The request body, reading no more than `limit` bytes into memory (the
    rest is received and dropped, so the client gets its answer)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        if size < limit:
            chunks.append(chunk[: limit - size])
        size += len(chunk)
    return b"".join(chunks)


async def _send_error(
    send: Send, e: PaviorError, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = list(extra or [])
    if e.status == 503:
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    elif isinstance(e, TooManyRequests):
        headers.append((b"retry-after", str(e.retry_after).encode()))
    body = {"error": {"code": e.code, "message": e.message, "field": e.field}}
    await _send(send, e.status, body, headers)


async def _send(
    send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = [*_CORS, *(_JSON if body is not None else []), *(extra or [])]
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
