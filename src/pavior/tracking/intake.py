"""Reading a tracking request: body limits, gzip, and the batch schema.

Everything here either returns well-formed events or raises an error that
names the problem (400 schema, 413 size), before anything is written.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

import orjson

from pavior.core.dates import parse_date
from pavior.core.errors import PaviorError
from pavior.core.json_input import InvalidJson, parse_json
from pavior.core.visits import correct_skew
from pavior.tracking.actions import Event, Identity

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_MESSAGE_ID = 100
MAX_URL = 2000
MAX_USER_JWT = 8000  # a token carrying a few signed attributes
WEBSITE_TYPES = frozenset({"page", "heartbeat", "interaction", "init", "update"})
# `hide` (page hidden or closed) only ends the live state: no visit, no time.
SNIPPET_TYPES = WEBSITE_TYPES | {"shutdown", "hide"}


class BadRequest(PaviorError):
    code = "invalid_batch"
    status = 400


class TooLarge(PaviorError):
    code = "too_large"
    status = 413


def read_body(body: bytes, content_encoding: str) -> bytes:
    """The request body, inflated when gzip-encoded, never past the batch cap."""
    if len(body) > MAX_BATCH_BYTES:
        raise TooLarge(f"The request body is over the {MAX_BATCH_BYTES // 1024} KB limit")
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise BadRequest(f"Unsupported Content-Encoding {encoding!r}; send gzip or none")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        # max_length stops a small "zip bomb" from inflating past the cap.
        out = inflater.decompress(body, MAX_BATCH_BYTES + 1)
    except zlib.error as e:
        raise BadRequest(f"The gzip body is corrupt: {e}") from e
    if len(out) > MAX_BATCH_BYTES or inflater.unconsumed_tail:
        raise TooLarge(f"The inflated body is over the {MAX_BATCH_BYTES // 1024} KB limit")
    if not inflater.eof:
        raise BadRequest("The gzip body is truncated")
    return out


def load_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = parse_json(body)
    except InvalidJson as e:
        raise BadRequest(e.message) from e
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object")
    return data


def optional_text(data: dict[str, Any], key: str, where: str, limit: int = 1000) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and key != "user_hash":
        value = str(value)  # numeric ids are common; they mean the same string
    if not isinstance(value, str):
        raise BadRequest(f"{where}{key} must be a string", field=f"{where}{key}")
    if len(value) > limit:
        raise BadRequest(f"{where}{key} is over {limit} characters", field=f"{where}{key}")
    return value


def parse_time(value: object, field: str) -> datetime:
    try:
        return parse_date(value)
    except (ValueError, TypeError, OverflowError) as e:
        raise BadRequest(f"{field}: {e}", field=field) from e


MAX_VERSION = 100


def parse_request(
    body: bytes, content_encoding: str, received_at: datetime
) -> tuple[str, Identity, list[Event], str | None]:
    """A raw tracking request body (any transport) to app_id, user, events, and
    the version of the in-site messages the snippet has (see messages_version)."""
    raw = read_body(body, content_encoding)
    data = load_json_object(raw)
    app_id, identity, events = parse_track(data, received_at, body_size=len(raw))
    return app_id, identity, events, messages_version(data)


def messages_version(data: dict[str, Any]) -> str | None:
    """None when the batch does not ask for in-site messages (no such key: a
    Segment call, an older snippet); else the version stamp of the candidates
    the snippet holds ("" when it has none yet)."""
    if "messages_version" not in data:
        return None
    value = data["messages_version"]
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_VERSION:
        raise BadRequest(
            f"messages_version must be a string of at most {MAX_VERSION} characters or null",
            field="messages_version",
        )
    return value


# Re-serialising parsed JSON makes it at most 4.5 times longer (a float such as
# 9e15 comes back as 9000000000000000.0), so no event of a body under this size
# can be over MAX_EVENT_BYTES: those skip the per-event size check, which was an
# eighth of the intake's CPU time.
SMALL_BODY = MAX_EVENT_BYTES // 6


def parse_who(data: dict[str, Any]) -> tuple[str, Identity]:
    """The workspace's public app_id and the user a browser call is about (the
    snippet's batch and the bubble's calls carry them the same way)."""
    app_id = data.get("app_id")
    if not isinstance(app_id, str) or not app_id:
        raise BadRequest("app_id is required (the workspace's public app id)", field="app_id")
    user = data.get("user")
    if not isinstance(user, dict):
        raise BadRequest("user is required: an object with id and/or email", field="user")
    identity = Identity(
        user_id=optional_text(user, "id", "user."),
        email=optional_text(user, "email", "user."),
        user_hash=optional_text(user, "user_hash", "user.", limit=200),
        user_jwt=optional_text(user, "user_jwt", "user.", limit=MAX_USER_JWT),
    )
    if not identity.key:
        raise BadRequest("user needs an id or an email", field="user.id")
    return app_id, identity


def parse_track(
    data: dict[str, Any], received_at: datetime, body_size: int | None = None
) -> tuple[str, Identity, list[Event]]:
    """The snippet's batch: app_id, the user, and skew-corrected events."""
    app_id, identity = parse_who(data)
    sent_at = parse_time(data["sent_at"], "sent_at") if data.get("sent_at") is not None else None
    raw_events = data.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise BadRequest("events must be a non-empty list", field="events")
    check_size = body_size is None or body_size > SMALL_BODY
    events = []
    for i, raw in enumerate(raw_events):
        events.append(_parse_event(raw, i, sent_at, received_at, check_size))
    return app_id, identity, events


def check_event_size(raw: Any, where: str) -> None:
    try:  # orjson: compact UTF-8 at C speed (this runs for every event of a big body)
        size = len(orjson.dumps(raw))
    except TypeError:  # an integer past 64 bits
        size = len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_EVENT_BYTES:
        raise TooLarge(
            f"{where} is {size // 1024} KB; one event may be at most {MAX_EVENT_BYTES // 1024} KB",
            field=where,
        )


def _parse_event(
    raw: Any, i: int, sent_at: datetime | None, received_at: datetime, check_size: bool = True
) -> Event:
    where = f"events[{i}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object", field=where)
    if check_size:
        check_event_size(raw, where)
    message_id = raw.get("message_id")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID:
        raise BadRequest(
            f"{where}.message_id must be a string of 1 to {MAX_MESSAGE_ID} characters",
            field=f"{where}.message_id",
        )
    kind = raw.get("type")
    if kind not in SNIPPET_TYPES:
        raise BadRequest(
            f"{where}.type must be one of {', '.join(sorted(SNIPPET_TYPES))}; not {kind!r}",
            field=f"{where}.type",
        )
    at_raw = raw.get("at")
    at = parse_time(at_raw, f"{where}.at") if at_raw is not None else (sent_at or received_at)
    url = optional_text(raw, "url", f"{where}.", limit=MAX_URL)
    attributes = raw.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        raise BadRequest(f"{where}.attributes must be an object", field=f"{where}.attributes")
    data: dict[str, Any] = {}
    if url:
        data["url"] = url
    if attributes:
        data["attributes"] = attributes
    return Event(
        message_id=message_id,
        type=kind,
        at=correct_skew(at, sent_at, received_at),
        website=kind in WEBSITE_TYPES,
        url=url,
        attributes=attributes,
        data=data or None,
    )
