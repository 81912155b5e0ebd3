"""/messages: in-site and email messages, and their stats (SPEC §10, §12, §13)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from pavior.api.schemas import ErrorOut, MessageIn, MessageOut, MessagePatch, MessageStatsOut
from pavior.core.dates import format_date
from pavior.messaging import actions
from pavior.messaging.models import Message
from pavior.messaging.queries import get_message, list_messages, message_stats

router = Router(tags=["messages"])


def _date(value: Any) -> str | None:
    return format_date(value) if value is not None else None


def message_out(message: Message) -> dict[str, Any]:
    email = message.channel == Message.Channel.EMAIL
    return {
        "id": message.pk,
        "channel": message.channel,
        "kind": None if email else message.kind,
        "status": message.status,
        "title": message.title,
        "subject": message.subject,
        "body": message.body,
        "body_html": message.body_html,
        "audience": message.audience or None,
        "rules": message.rules or None,
        "delivery": message.delivery if email else None,
        "starts_at": _date(message.starts_at),
        "ends_at": _date(message.ends_at),
        "sender_name": message.sender_name,
        "created_at": format_date(message.created_at),
        "updated_at": format_date(message.updated_at),
        "went_live_at": _date(message.went_live_at),
    }


@router.get("/messages", response={200: list[MessageOut], 422: ErrorOut})
def list_all(request: HttpRequest, channel: str | None = None) -> Any:
    if channel is not None and channel not in ("in_app", "email"):
        from pavior.core.errors import InvalidValue

        raise InvalidValue("channel must be in_app or email", field="channel")
    workspace = request.workspace  # type: ignore[attr-defined]
    return [message_out(m) for m in list_messages(workspace, channel=channel)]


@router.post("/messages", response={201: MessageOut, 409: ErrorOut, 422: ErrorOut})
def create(request: HttpRequest, payload: MessageIn) -> Any:
    data = {k: getattr(payload, k) for k in payload.model_fields_set if k in actions.CONTENT_FIELDS}
    message = actions.create_message(
        request.workspace,  # type: ignore[attr-defined]
        payload.channel,
        data,
        status=payload.status if "status" in payload.model_fields_set else "draft",
    )
    return Status(201, message_out(message))


@router.get("/messages/{message_id}", response={200: MessageOut, 404: ErrorOut})
def get_one(request: HttpRequest, message_id: int) -> Any:
    return message_out(get_message(request.workspace, message_id))  # type: ignore[attr-defined]


@router.patch(
    "/messages/{message_id}",
    response={200: MessageOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def patch(request: HttpRequest, message_id: int, payload: MessagePatch) -> Any:
    given = payload.model_fields_set
    data = {k: getattr(payload, k) for k in given if k in actions.CONTENT_FIELDS}
    status = payload.status if "status" in given else None
    if "status" in given and payload.status is None:
        from pavior.core.errors import InvalidValue

        raise InvalidValue("status cannot be null", field="status")
    message = actions.update_message(
        request.workspace,  # type: ignore[attr-defined]
        message_id,
        data,
        status=status,
    )
    return message_out(message)


@router.delete("/messages/{message_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete(request: HttpRequest, message_id: int) -> Any:
    actions.delete_message(request.workspace, message_id)  # type: ignore[attr-defined]
    return Status(204, None)


@router.get("/messages/{message_id}/stats", response={200: MessageStatsOut, 404: ErrorOut})
def stats(request: HttpRequest, message_id: int) -> Any:
    return message_stats(get_message(request.workspace, message_id))  # type: ignore[attr-defined]
