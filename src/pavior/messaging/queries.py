"""Reading messages: lists, one message, stats, and what uses a segment."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from pavior.core.errors import NotFound, show_value
from pavior.core.filters import attribute_names, segment_ids
from pavior.messaging.models import Delivery, Message
from pavior.segments.models import Segment
from pavior.workspaces.models import Workspace

STAT_FIELDS = ("sent", "shown", "dismissed", "clicked", "unsubscribed", "failed", "skipped")


def list_messages(workspace: Workspace, *, channel: str | None = None) -> list[Message]:
    found = Message.objects.filter(workspace=workspace)
    if channel:
        found = found.filter(channel=channel)
    return list(found.order_by("-created_at", "-id"))


def get_message(workspace: Workspace, message_id: int) -> Message:
    """The message, or a 404 that names the id (another workspace's is not found)."""
    found = (
        Message.objects.filter(workspace=workspace, pk=message_id).first()
        if 0 < message_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(f"No message with id {message_id}", field="id")
    return found


def message_stats(message: Message) -> dict[str, int]:
    """Unique users per outcome, from the delivery rows (SPEC §10 stats shape)."""
    S = Delivery.State
    counts: dict[str, Any] = Delivery.objects.filter(message=message).aggregate(
        sent=Count("id", filter=Q(state=S.SENT)),
        shown=Count("id", filter=Q(shown_at__isnull=False)),
        dismissed=Count("id", filter=Q(dismissed_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        failed=Count("id", filter=Q(state=S.FAILED)),
        skipped=Count("id", filter=Q(state=S.SKIPPED)),
        pending=Count("id", filter=Q(state__in=(S.PENDING, S.SENDING))),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def messages_using_segment(segment: Segment) -> list[Message]:
    """Live or paused messages whose audience names the segment directly."""
    found = Message.objects.filter(
        workspace_id=segment.workspace_id,
        status__in=(Message.Status.LIVE, Message.Status.PAUSED),
    ).only("id", "title", "subject", "audience", "status")
    return [m for m in found if segment.pk in segment_ids(m.audience)]


def live_message_check(segment: Segment) -> str | None:
    """Registered in segments.hooks.segment_in_use_checks: refuse deleting a used segment."""
    using = messages_using_segment(segment)
    if not using:
        return None
    names = ", ".join(f"{m.status} message {show_value(str(m))} ({m.pk})" for m in using[:5])
    return f"{names} {'targets' if len(using) == 1 else 'target'} it"


def messages_naming_attribute(workspace_id: int, name: str) -> list[str]:
    """Registered in people.hooks.attribute_in_use_checks: live or paused audiences naming it."""
    found = Message.objects.filter(
        workspace_id=workspace_id, status__in=(Message.Status.LIVE, Message.Status.PAUSED)
    ).order_by("id")
    return [
        f"{m.status} message {show_value(str(m))} ({m.pk}) targets by it"
        for m in found
        if name in attribute_names(m.audience)
    ]
