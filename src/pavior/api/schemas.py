"""Request and response shapes of the REST API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict

# Re-exported: every API module takes them from here.
from pavior.workspaces.schemas import ErrorDetail as ErrorDetail
from pavior.workspaces.schemas import ErrorOut as ErrorOut


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class AttributeOut(Schema):
    name: str
    rendered_name: str
    type: Literal["string", "number", "date", "boolean"]
    builtin: bool
    live: bool
    archived: bool
    browser_writable: bool


class AttributeCreate(Strict):
    name: Any  # validated by the core so every door gives the same message
    type: Any
    browser_writable: bool = True


class AttributePatch(Strict):
    archived: bool | None = None
    browser_writable: bool | None = None


class SearchIn(Strict):
    filter: dict[str, Any] | None = None
    sort: dict[str, Any] | None = None
    limit: int = 50
    cursor: str | None = None
    search: str | None = None
    # Counting every match costs more than fetching a page on a big workspace;
    # a client paging through results can skip it after the first page.
    include_total: bool = True


class CountIn(Strict):
    filter: dict[str, Any] | None = None
    search: str | None = None


class SearchOut(Schema):
    total: int | None
    users: list[dict[str, Any]]
    next_cursor: str | None


class CountOut(Schema):
    count: int


class ActivityIn(Strict):
    type: str
    at: Any = None


class WorkspaceOut(Schema):
    name: str
    app_id: str
    identity_verification: Literal["off", "optional", "required"]
    snippet_creates_attributes: bool
    timezone: str


class WorkspacePatch(Strict):
    name: Any = None
    identity_verification: Any = None
    snippet_creates_attributes: Any = None
    timezone: Any = None


class IdentitySecretOut(Schema):
    id: int
    prefix: str
    created_at: str


class IdentitySecretCreated(IdentitySecretOut):
    secret: str


class SegmentIn(Strict):
    name: Any  # checked by the core's segment-name rule
    filter: dict[str, Any] | None = None


class SegmentPatch(Strict):
    name: Any = None
    filter: dict[str, Any] | None = None


class SegmentOut(Schema):
    id: int
    name: str
    filter: dict[str, Any] | None
    created_at: str
    updated_at: str
    count: int | None = None


class _MessageContent(Strict):
    # Checked by the core's message rules, so every door gives the same message.
    kind: Any = None
    title: Any = None
    subject: Any = None
    body: Any = None
    audience: dict[str, Any] | None = None
    rules: dict[str, Any] | None = None
    delivery: Any = None
    starts_at: Any = None
    ends_at: Any = None
    sender_name: Any = None


class MessageIn(_MessageContent):
    channel: Any  # in_app | email
    status: Any = "draft"


class MessagePatch(_MessageContent):
    status: Any = None


class MessageOut(Schema):
    id: int
    channel: str
    kind: str | None
    status: str
    title: str
    subject: str
    body: str
    body_html: str
    audience: dict[str, Any] | None
    rules: dict[str, Any] | None
    delivery: str | None
    starts_at: str | None
    ends_at: str | None
    sender_name: str
    created_at: str
    updated_at: str
    went_live_at: str | None


class MessageStatsOut(Schema):
    sent: int
    shown: int
    dismissed: int
    clicked: int
    unsubscribed: int
    failed: int
    skipped: int
    pending: int
