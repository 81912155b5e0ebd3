"""The bubble's public endpoints (SPEC §12), as a small pure-ASGI application.

    POST /api/v1/messenger/show         {app_id, user, message_id} -> {"message": {...}}
    POST /api/v1/messenger/dismiss      {app_id, user, message_id} -> {"dismissed": bool}
    POST /api/v1/messenger/click        {app_id, user, message_id} -> {"clicked": bool}
    POST /api/v1/messenger/messages     {app_id, user}             -> the panel
    POST /api/v1/messenger/resubscribe  {app_id, user}             -> {"email_subscription": true}

They are the snippet's, like `POST /api/v1/track` (pavior.tracking.lean), and
are answered the same way, outside Django: no session, cookie or CSRF token
(they are cookie-less and CORS-open; text/plain bodies so a browser sends no
preflight), the same JSON errors, the same rate limits per app_id and client
address, and the same identity proof: `user` is {id?, email?, user_hash?,
user_jwt?} checked by the intake's rules (SPEC §6). On top of those, a user's
messages and subscription are read or changed only by a session that may
read personal messages (verification `off`, or a verified call).

Django's view stack would cost more than the work (a `show` is a handful of
queries): the lean path keeps "show" past 1,000 requests/s on PostgreSQL
(docs/benchmarks-messages.md). The work runs on a small thread pool, off the
event loop; each action is one transaction (pavior.messaging.delivery).

This module sits above tracking and messaging (imports point down): it
uses the intake's identity check and messaging's delivery actions, and
`install()` (called by pavior.asgi) wires messaging's candidates into the
tracking answer.
"""

from __future__ import annotations

import functools
from typing import Any

from pavior import rate_limits
from pavior.core.attributes import Trust
from pavior.core.errors import NotFound, PaviorError
from pavior.core.identity import may_read_messages, unverified_call_refused
from pavior.messaging import delivery
from pavior.people.models import Person
from pavior.tracking import clock, lean
from pavior.tracking.actions import Identity, IdentityRefused, IngestResult, check_identity
from pavior.tracking.intake import BadRequest, load_json_object, parse_who, read_body
from pavior.tracking.lookup import require_workspace
from pavior.workspaces.models import Workspace

PREFIX = "/api/v1/messenger/"
MAX_BODY = 16 * 1024
WITH_MESSAGE = frozenset({"show", "dismiss", "click"})
ACTIONS = WITH_MESSAGE | {"messages", "resubscribe"}
PATHS = frozenset(PREFIX + a for a in ACTIONS)


def handles(scope: Any) -> bool:
    return scope["type"] == "http" and scope["path"] in PATHS


def install() -> None:
    """Answer the snippet's batches with the user's candidate messages."""
    lean.candidates_hook = _candidates


def _candidates(workspace: Workspace, result: IngestResult, version: str, blocking: bool) -> Any:
    answer = delivery.tracking_answer(
        workspace, result.person, result.verified, version, cached_only=not blocking
    )
    return lean.MISS if answer is delivery.NOT_CACHED else answer


async def app(scope: Any, receive: Any, send: Any) -> None:
    method = scope["method"]
    if method == "OPTIONS":
        await lean._send(send, 204, None)
        return
    if method != "POST":
        error = lean.MethodNotAllowed(f"{method} is not allowed here; POST to {scope['path']}")
        await lean._send_error(send, error, [(b"allow", b"POST, OPTIONS")])
        return
    client = scope.get("client")
    request = lean.Request(
        path=scope["path"],
        headers=dict(scope["headers"]),
        body=await lean._read(receive, MAX_BODY + 1),
        remote=client[0] if client else "",
        received_at=clock.now(),
    )
    try:
        body = await _answer(request, scope["path"][len(PREFIX) :])
    except PaviorError as e:
        await lean._send_error(send, e)
        return
    await lean._send(send, 200, body)


class TooLarge(PaviorError):
    code = "too_large"
    status = 413


async def _answer(request: lean.Request, action: str) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise TooLarge(f"The request body is over the {MAX_BODY // 1024} KB limit")
    data = load_json_object(read_body(request.body, request.header("content-encoding")))
    app_id, identity = parse_who(data)
    message_id = _message_id(data) if action in WITH_MESSAGE else 0
    retry = rate_limits.check_tracking(app_id, request.ip())
    if retry:
        raise lean.TooManyRequests(retry, "app_id or address")
    return await lean.run_db(functools.partial(_act, action, app_id, identity, message_id))


def _message_id(data: dict[str, Any]) -> int:
    value = data.get("message_id")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise BadRequest(
            "message_id must be a message's id (a positive integer)", field="message_id"
        )
    return value


def _person(app_id: str, identity: Identity) -> tuple[Workspace, Person]:
    """The workspace and the user, proved as the intake proves them; refused
    (403) unless this session may read the user's own messages."""
    workspace = require_workspace(app_id)
    verified = check_identity(workspace, identity, Trust.BROWSER)
    mode = workspace.identity_verification
    person = Person.objects.filter(workspace_id=workspace.pk, external_id=identity.key).first()
    if person is None:
        raise NotFound("Pavior has not seen this user yet", field="user.id")
    if unverified_call_refused(mode, Trust.BROWSER, verified, person.verified_at is not None):
        raise IdentityRefused(
            "This user has been verified before, so calls for them need a valid user_hash "
            "or user_jwt",
            field="user_hash",
        )
    if not may_read_messages(mode, verified):
        raise IdentityRefused(
            "With identity verification on, messages are shown only in a verified session "
            "(a valid user_hash or user_jwt)",
            field="user_hash",
        )
    return workspace, person


def _act(action: str, app_id: str, identity: Identity, message_id: int) -> dict[str, Any]:
    workspace, person = _person(app_id, identity)
    if action == "show":
        return {"message": delivery.show(workspace, person, message_id).content}
    if action == "dismiss":
        return {"dismissed": delivery.dismiss(workspace, person, message_id)}
    if action == "click":
        return {"clicked": delivery.click(workspace, person, message_id)}
    if action == "messages":
        return delivery.panel(workspace, person)
    changed = delivery.resubscribe(person)
    return {"email_subscription": True, "changed": changed}
