"""Which live in-site messages a user may be shown: their candidates (SPEC §12).

The browser learns a user's candidates (id, kind, live rules) from the
tracking responses it already gets, with a version stamp so an unchanged
set costs nothing; it evaluates the live rules itself and asks `show` when
they hold. The server checks the audience again then (`audience_matches`).

This first form asks the database once per live message; the in-memory
evaluator (pavior.core.matching) and the per-user cache replace it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from pavior.messaging.models import Message
from pavior.people.models import Person
from pavior.segments.queries import filtered_people
from pavior.segments.saved import parse_workspace_filter
from pavior.workspaces.models import Workspace


@dataclass(frozen=True)
class Candidates:
    """A user's candidate messages now, and a stamp that changes when they do."""

    version: str
    messages: list[dict[str, Any]] = field(default_factory=list)


def _version_key(workspace_id: int) -> str:
    return f"pavior:messages-version:{workspace_id}"


def workspace_version(workspace_id: int) -> int:
    value = cache.get(_version_key(workspace_id))
    if value is None:
        cache.add(_version_key(workspace_id), 1, timeout=None)
        value = cache.get(_version_key(workspace_id)) or 1
    return int(value)


def messages_changed(workspace_id: int) -> None:
    """A message of the workspace changed: every user's candidates are recomputed."""
    try:
        cache.incr(_version_key(workspace_id))
    except ValueError:
        cache.add(_version_key(workspace_id), 2, timeout=None)


def live_in_app_messages(workspace: Workspace, now: datetime | None = None) -> list[Message]:
    now = now or timezone.now()
    return list(
        Message.objects.filter(
            workspace=workspace,
            channel=Message.Channel.IN_APP,
            status=Message.Status.LIVE,
        )
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("id")
    )


def audience_matches(workspace: Workspace, message: Message, person: Person) -> bool:
    """Whether the user is in the message's audience now."""
    node = parse_workspace_filter(workspace, message.audience or None)
    if node is None:
        return True
    qs, _ = filtered_people(workspace, node)
    return qs.filter(pk=person.pk).exists()


def candidate_form(message: Message) -> dict[str, Any]:
    """What the browser needs to decide when to ask: no content (that comes with show)."""
    return {"id": message.pk, "kind": message.kind, "rules": message.rules or None}


def candidates_for(workspace: Workspace, person: Person) -> Candidates:
    """The live in-site messages this user is in the audience of, not yet shown to them."""
    from pavior.messaging.models import Delivery

    shown = set(
        Delivery.objects.filter(person=person, message__channel=Message.Channel.IN_APP).values_list(
            "message_id", flat=True
        )
    )
    found = [
        candidate_form(m)
        for m in live_in_app_messages(workspace)
        if m.pk not in shown and audience_matches(workspace, m, person)
    ]
    digest = hashlib.sha256(repr(found).encode()).hexdigest()[:16]
    return Candidates(version=digest, messages=found)
