"""The tracking intake as a small pure-ASGI handler, outside Django's request path.

`POST /api/v1/track` is the hottest endpoint by far and needs none of
Django's middleware (sessions, auth, CSRF, messages, static files): it is
public, cookie-less and answers JSON. pavior.asgi sends it here; everything
else goes to Django. The rules are the same functions the Django view calls
(parse_request, require_workspace, check_identity and store through the
group-commit writer, the same CORS headers and error bodies), so the two
paths cannot drift apart; tests/tracking/test_lean_intake.py drives this one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pavior import rate_limits
from pavior.core.errors import PaviorError
from pavior.tracking import clock
from pavior.tracking.intake import MAX_BATCH_BYTES, parse_request
from pavior.tracking.views import (
    CORS_HEADERS,
    RETRY_AFTER_SECONDS,
    client_ip,
    error_body,
    place_for,
    result_body,
)
from pavior.tracking.writer import writer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRACK = "/api/v1/track"
NOOP = "/api/v1/track/noop"
PATHS = frozenset({TRACK, NOOP})

_CORS = [(k.lower().encode(), v.encode()) for k, v in CORS_HEADERS.items()]
_JSON = [(b"content-type", b"application/json"), (b"x-content-type-options", b"nosniff")]


def handles(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] in PATHS


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    method = scope["method"]
    if method == "OPTIONS":
        await _send(send, 204, None)
        return
    if scope["path"] == NOOP:
        await _read(receive, MAX_BATCH_BYTES)
        await _send(send, 200, {"accepted": 0})
        return
    if method != "POST":
        extra = [(b"allow", b"POST, OPTIONS")]
        body = error_body("method_not_allowed", "POST a batch to this endpoint")
        await _send(send, 405, body, extra)
        return
    received_at = clock.now()
    headers = dict(scope["headers"])
    # One byte past the cap is enough for read_body to answer 413 with its message.
    raw = await _read(receive, MAX_BATCH_BYTES + 1)
    try:
        encoding = headers.get(b"content-encoding", b"").decode("latin-1")
        app_id, identity, events = parse_request(raw, encoding, received_at)
    except PaviorError as e:
        await _send_error(send, e)
        return
    client = scope.get("client")
    remote = client[0] if client else ""
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
    if retry := rate_limits.check_tracking(app_id, client_ip(remote, forwarded)):
        await _send(send, 429, *rate_limits.refusal(retry, "app_id or address"))
        return
    place = place_for(remote, forwarded)
    outcome = await writer.write(app_id, identity, events, received_at, place)
    if isinstance(outcome, PaviorError):
        extra = (
            [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())] if outcome.status == 503 else []
        )
        await _send(
            send, outcome.status, error_body(outcome.code, outcome.message, outcome.field), extra
        )
        return
    await _send(send, 200, result_body(outcome))


async def _read(receive: Receive, limit: int) -> bytes:
    """The request body, reading no more than `limit` bytes into memory."""
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


async def _send_error(send: Send, e: PaviorError) -> None:
    retry = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())] if e.status == 503 else []
    await _send(send, e.status, error_body(e.code, e.message, e.field), retry)


async def _send(
    send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = [*_CORS, *(_JSON if body is not None else []), *(extra or [])]
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
