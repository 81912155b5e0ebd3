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

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection

from pavior import rate_limits
from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.tracking import clock
from pavior.tracking.actions import Identity, IngestResult
from pavior.tracking.geoip import Place, get_geoip
from pavior.tracking.intake import MAX_BATCH_BYTES, parse_request
from pavior.tracking.rows import compact_json
from pavior.tracking.segment import authenticate, parse_segment
from pavior.tracking.writer import Job, unavailable, writer
from pavior.workspaces.addresses import client_ip
from pavior.workspaces.models import Workspace

log = logging.getLogger("pavior.tracking")

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

# The user's in-site messages for the snippet's answer (SPEC §12). Tracking
# sits beside messaging and may not import it, so the wiring at the top
# (pavior.asgi, through pavior.api.messenger.install) sets this to messaging's
# answer. Called once per snippet batch that asks (its body has
# "messages_version"), after the batch is committed, with the workspace, the
# stored result, the version the snippet holds and `blocking`; returns the
# "messages" block of the answer, or None when that version is current.
# First on the event loop with blocking=False: it answers from memory and
# caches only, or returns MISS; then, on a MISS, once more on a thread of
# `db_threads` with blocking=True, where it may read the database (never on
# the event loop, never holding up the writer).
CandidatesHook = Callable[[Workspace, IngestResult, str, bool], Any]
candidates_hook: CandidatesHook | None = None
MISS = object()


# Threads for database reads that answer a request (the candidates here, the
# bubble's endpoints in pavior.api.messenger): off the event loop, and beside
# the one writer thread rather than in its queue.
def _db_thread_count() -> int:
    """16: the bubble's "show" waits on the database more than it computes, and
    16 threads served twice the shows of 8 (docs/benchmarks-messages.md); fewer
    when PostgreSQL's connection pool is smaller, leaving some of it to the
    writer and to Django's requests."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        return max(2, min(16, int(pool["max_size"]) - 4))
    return 16


db_threads = ThreadPoolExecutor(max_workers=_db_thread_count(), thread_name_prefix="pavior-db")

T = TypeVar("T")


async def run_db(work: Callable[[], T]) -> T:
    """Run `work` on db_threads; a database failure is a 503 (Unavailable)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(db_threads, _db_call, work)


def _db_call(work: Callable[[], T]) -> T:
    try:
        return work()
    except DatabaseError as e:
        log.warning("database work of a request failed", exc_info=True)
        connection.close()
        raise unavailable() from e
    finally:
        if connection.vendor == "postgresql":
            connection.close()  # back to psycopg's pool (settings.py), not kept per thread


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
    app_id, identity, events, version = parse_request(
        request.body, request.header("content-encoding"), request.received_at
    )
    await _check_rate(app_id, Trust.BROWSER, request)
    job = Job(app_id, identity, events, request.received_at, request.place())
    (outcome,) = await writer.write(job)
    if isinstance(outcome, PaviorError):
        raise outcome
    answer = {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "verified": outcome.verified,
        "errors": outcome.errors,
        "warnings": outcome.warnings,
    }
    hook = candidates_hook
    if hook is not None and version is not None and job.workspace is not None:
        messages = await _candidates(hook, job.workspace, outcome, version)
        if messages is not None:
            answer["messages"] = messages
    return answer


async def _candidates(
    hook: CandidatesHook, workspace: Workspace, result: IngestResult, version: str
) -> dict[str, Any] | None:
    """The batch is stored whatever happens here: a failure only leaves the
    answer without its messages (the snippet asks again with its next batch)."""
    try:
        answer = hook(workspace, result, version, False)
        if answer is MISS:
            answer = await run_db(functools.partial(hook, workspace, result, version, True))
        return answer
    except Exception:
        log.exception("the user's in-site messages could not be added to the answer")
        return None


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
    payload = b"" if body is None else compact_json(body)
    headers = [*_CORS, *(_JSON if body is not None else []), *(extra or [])]
    headers.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
