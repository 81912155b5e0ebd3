"""Segment-compatible intake: POST /v1/batch, /v1/identify, /v1/track, /v1/page, /v1/screen.

Served by pavior.tracking.lean like the snippet's endpoint; this module reads
the calls and checks the write key.

The write key (the Basic-auth user name, as Segment libraries send it, or
`writeKey` in the body) is the workspace's app_id (browser trust, like the
snippet) or a secret api_key (server trust, like the REST API). Calls become
the same batches as the snippet's, so deduplication, skew correction and the
derived attributes follow one set of rules.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.core.visits import correct_skew
from pavior.tracking.actions import Event, Identity, IdentityRefused
from pavior.tracking.intake import (
    BadRequest,
    check_event_size,
    load_json_object,
    optional_text,
    parse_time,
    read_body,
)
from pavior.tracking.lookup import workspace_for_app_id
from pavior.workspaces.actions import workspace_for_api_key
from pavior.workspaces.models import IdentityVerification, Workspace

KINDS = frozenset({"identify", "track", "page", "screen"})
APP_ID_PREFIX = "app_"
UNKNOWN_KEY = "Unknown write key: use the workspace's app_id or a secret API key"
# Segment's reserved traits -> Pavior built-ins (SPEC §5).
TRAIT_NAMES = {
    "firstName": "first_name",
    "lastName": "last_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "email": "email",
    "name": "name",
}


class Unauthorized(PaviorError):
    code = "unauthorized"
    status = 401


@dataclass
class SegmentCall:
    """A Segment request, parsed: its write key and what to record, by user."""

    key: str
    trust: Trust
    users: dict[str, tuple[Identity, list[Event]]]
    warnings: list[dict[str, Any]]


def parse_segment(
    body: bytes,
    content_encoding: str,
    authorization: str,
    kind: str | None,
    received_at: datetime,
) -> SegmentCall:
    """A raw Segment request body (a batch when `kind` is None, else one call of
    that type) to the users' batches; BadRequest, TooLarge or Unauthorized."""
    data = load_json_object(read_body(body, content_encoding))
    key = _write_key(authorization, data)
    if not key:
        raise Unauthorized(UNKNOWN_KEY)
    # The key's form says its trust; whether it opens a workspace is the
    # writer's to check (authenticate), on its thread, with the database.
    trust = Trust.BROWSER if key.startswith(APP_ID_PREFIX) else Trust.SECRET
    if kind is None:
        messages = data.get("batch")
        if not isinstance(messages, list):
            raise BadRequest("batch must be a list of calls", field="batch")
    else:
        messages = [{**data, "type": data.get("type") or kind}]
    sent_at = parse_time(data["sentAt"], "sentAt") if data.get("sentAt") else None
    users, warnings = _group(messages, sent_at, received_at, trust)
    return SegmentCall(key=key, trust=trust, users=users, warnings=warnings)


def authenticate(key: str) -> Workspace:
    """The workspace a write key opens: its app_id (browser trust) or a secret API key."""
    if key.startswith(APP_ID_PREFIX):
        workspace = workspace_for_app_id(key)
    else:
        workspace = workspace_for_api_key(key)
    if workspace is None:
        raise Unauthorized(UNKNOWN_KEY)
    if (
        key.startswith(APP_ID_PREFIX)
        and workspace.identity_verification == IdentityVerification.REQUIRED
    ):
        raise IdentityRefused(
            "This workspace requires identity verification, which Segment calls made with "
            "the app_id cannot carry; send them with a secret API key"
        )
    return workspace


def _write_key(authorization: str, data: dict[str, Any]) -> str | None:
    """The Basic-auth user name, as Segment libraries send it, else `writeKey`."""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    key = data.get("writeKey")
    return key if isinstance(key, str) and key else None


def _group(
    messages: list[Any], sent_at: datetime | None, received_at: datetime, trust: Trust
) -> tuple[dict[str, tuple[Identity, list[Event]]], list[dict[str, Any]]]:
    users: dict[str, tuple[Identity, list[Event]]] = {}
    warnings: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        where = f"batch[{i}]"
        if not isinstance(msg, dict):
            raise BadRequest(f"{where} must be an object", field=where)
        check_event_size(msg, where)
        kind = msg.get("type")
        if kind not in KINDS:
            warnings.append(_warn(msg, "type", f"{where}: call type {kind!r} is not recorded"))
            continue
        user_id = optional_text(msg, "userId", f"{where}.")
        traits = msg.get("traits") if kind == "identify" else None
        if traits is None and isinstance(msg.get("context"), dict):
            traits = msg["context"].get("traits")
        traits = traits if isinstance(traits, dict) else {}
        email = traits.get("email") if isinstance(traits.get("email"), str) else None
        if not (user_id or email):
            warnings.append(
                _warn(msg, "userId", f"{where}: a call without userId (anonymous) is not recorded")
            )
            continue
        msg_sent = parse_time(msg["sentAt"], f"{where}.sentAt") if msg.get("sentAt") else sent_at
        at = parse_time(msg["timestamp"], f"{where}.timestamp") if msg.get("timestamp") else None
        at = correct_skew(at, msg_sent, received_at) if at else received_at
        event = Event(
            message_id=_message_id(msg),
            type=kind,
            at=at,
            website=kind in ("page", "screen") or trust is Trust.BROWSER,
            url=_url(msg),
        )
        if kind == "identify":
            event.attributes = _map_traits(traits, trust, msg, warnings)
        event.data = {k: v for k, v in (("url", event.url), ("event", msg.get("event"))) if v}
        event.data = event.data or None
        key = user_id or email or ""
        identity, events = users.setdefault(key, (Identity(user_id=user_id, email=email), []))
        events.append(event)
    return users, warnings


def _message_id(msg: dict[str, Any]) -> str:
    value = msg.get("messageId")
    if isinstance(value, str) and 0 < len(value) <= 100:
        return value
    # No usable messageId: a new one, as Segment's own API gives such a call.
    # Two identical calls are two events; only a retry that repeats its
    # messageId is stored once.
    return f"pavior-{uuid.uuid4()}"


def _url(msg: dict[str, Any]) -> str | None:
    for source in (msg.get("properties"), (msg.get("context") or {}).get("page")):
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            return source["url"][:2000]
    return None


def _map_traits(
    traits: dict[str, Any], trust: Trust, msg: dict[str, Any], warnings: list[dict[str, Any]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in traits.items():
        if name in ("id", "userId"):
            continue
        if name == "address":
            # City and country come from GeoIP in the browser path (SPEC §6);
            # only server trust may seed them.
            if trust is Trust.SECRET and isinstance(value, dict):
                for part in ("city", "country"):
                    if isinstance(value.get(part), str) and value[part]:
                        out[part] = value[part]
            elif trust is not Trust.SECRET:
                warnings.append(
                    _warn(msg, name, "address sets city and country only with a secret API key")
                )
            continue
        if name == "createdAt":
            if trust is Trust.SECRET:
                out["signed_up_at"] = value
            else:
                warnings.append(
                    _warn(msg, name, "createdAt sets signed_up_at only with a secret API key")
                )
            continue
        if isinstance(value, dict | list):
            warnings.append(
                _warn(msg, name, f"trait {name!r} is a nested object or array; skipped")
            )
            continue
        out[TRAIT_NAMES.get(name, name)] = value
    return out


def _warn(msg: dict[str, Any], field: str, message: str) -> dict[str, Any]:
    mid = msg.get("messageId") if isinstance(msg.get("messageId"), str) else None
    return {"message_id": mid, "field": field, "message": message}
