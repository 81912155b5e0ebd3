"""In-site delivery (SPEC §12): show, dismiss, click, the panel, resubscribe.

The browser asks; these decide. Each state change is one function in one
transaction. `show` checks again what the browser cannot be trusted with
(the message is this workspace's, live, in schedule, and the user is in its
audience now) and records the display with INSERT ... ON CONFLICT DO NOTHING
on the unique (message, person) delivery row: of any number of tabs or
devices asking at once, exactly one gets the content; the others learn it
was "already shown".

Callers (the public messenger endpoints, pavior.api.messenger) have already
proved who the user is, the way the tracking intake does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from pavior.core.errors import Conflict, NotFound, PaviorError
from pavior.core.identity import may_read_messages
from pavior.messaging import actions, targeting
from pavior.messaging.models import Delivery, Message, SubscriptionChange
from pavior.people.models import Person
from pavior.workspaces.models import Workspace

# The panel lists at most this many of the user's messages, newest first.
PANEL_LIMIT = 50


class NotInAudience(PaviorError):
    code = "not_in_audience"
    status = 403


class AlreadyShown(Conflict):
    code = "already_shown"


@dataclass(frozen=True)
class Shown:
    """A message as the bubble shows it: sanitised content only."""

    content: dict[str, Any]


def initials(name: str) -> str:
    """Up to two initials of a sender's name ("Ada Lovelace" -> "AL")."""
    parts = [p for p in name.replace(".", " ").split() if p[:1].isalnum()]
    if not parts:
        return ""
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()


def content(message: Message, delivery: Delivery | None = None) -> dict[str, Any]:
    """What the bubble may put on a page: body_html is the server-sanitised body."""
    chat = message.kind == Message.Kind.CHAT
    sender = message.sender_name if chat else ""
    out: dict[str, Any] = {
        "id": message.pk,
        "kind": message.kind,
        "title": message.title,
        "body_html": message.body_html,
        "sender_name": sender,
        "initials": initials(sender),
    }
    if delivery is not None:
        out["shown_at"] = _rfc3339(delivery.shown_at)
        out["dismissed"] = delivery.dismissed_at is not None
    return out


def _rfc3339(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(workspace: Workspace, message_id: int) -> Message:
    """The workspace's in-site message; another workspace's is not found (404)."""
    found = (
        Message.objects.filter(
            workspace_id=workspace.pk, pk=message_id, channel=Message.Channel.IN_APP
        ).first()
        if 0 < message_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(f"No in-site message with id {message_id}", field="message_id")
    return found


def _check_showable(message: Message, now: datetime) -> None:
    if message.status != Message.Status.LIVE:
        raise Conflict(
            f"Message {message.pk} is {message.status}, not live", code="message_not_live"
        )
    if message.starts_at is not None and message.starts_at > now:
        raise Conflict(f"Message {message.pk} starts later", code="message_not_scheduled")
    if message.ends_at is not None and message.ends_at <= now:
        raise Conflict(f"Message {message.pk} has ended", code="message_not_scheduled")


def _insert_shown(workspace: Workspace, message: Message, person: Person, now: datetime) -> bool:
    """Record the display once: True for the one call that inserted the row."""
    table = Delivery._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} "  # noqa: S608 - the table name is the model's, not input
            "(workspace_id, message_id, person_id, state, reason, created_at, shown_at, "
            "attempts) VALUES (%s, %s, %s, %s, '', %s, %s, 0) "
            "ON CONFLICT (message_id, person_id) DO NOTHING RETURNING id",
            [workspace.pk, message.pk, person.pk, Delivery.State.SHOWN, now, now],
        )
        return cur.fetchone() is not None


def show(workspace: Workspace, person: Person, message_id: int) -> Shown:
    """Show a message to the user once: its content, or a refusal that says why.

    404 another workspace's or an unknown message; 409 `message_not_live`
    (paused, draft, archived), `message_not_scheduled`, `already_shown`;
    403 `not_in_audience`.
    """
    now = timezone.now()
    message = _message(workspace, message_id)
    _check_showable(message, now)
    if not _in_audience(workspace, message, person):
        raise NotInAudience(
            f"This user is not in the audience of message {message.pk}", field="message_id"
        )
    # The one write, a transaction of its own: of concurrent asks, one inserts.
    if not _insert_shown(workspace, message, person, now):
        raise AlreadyShown(f"Message {message.pk} was already shown to this user")
    _after_show(workspace.pk, person.pk)
    return Shown(content(message, Delivery(shown_at=now)))


def _in_audience(workspace: Workspace, message: Message, person: Person) -> bool:
    """An empty audience is everyone: no query for it."""
    return not message.audience or targeting.audience_matches(workspace, message, person)


def _after_show(workspace_id: int, person_id: int) -> None:
    """Tell the candidate cache that this user's set moved (the shown message leaves it)."""
    targeting.forget_user(workspace_id, person_id)


def _shown_row(workspace: Workspace, person: Person, message: Message) -> Delivery:
    row = Delivery.objects.filter(message=message, person=person, shown_at__isnull=False).first()
    if row is None:
        if not _in_audience(workspace, message, person):
            raise NotInAudience(
                f"This user is not in the audience of message {message.pk}", field="message_id"
            )
        raise Conflict(f"Message {message.pk} was not shown to this user", code="not_shown")
    return row


def dismiss(workspace: Workspace, person: Person, message_id: int) -> bool:
    """The user closed a shown message; True the first time. Refused for a
    message that is not live (409) or was never shown to this user."""
    with transaction.atomic():
        message = _message(workspace, message_id)
        if message.status != Message.Status.LIVE:
            raise Conflict(
                f"Message {message.pk} is {message.status}, not live", code="message_not_live"
            )
        row = _shown_row(workspace, person, message)
        moved = Delivery.objects.filter(pk=row.pk, dismissed_at__isnull=True).update(
            dismissed_at=timezone.now()
        )
    return bool(moved)


def click(workspace: Workspace, person: Person, message_id: int) -> bool:
    """The user followed a link of a shown message: counted once per user."""
    with transaction.atomic():
        message = _message(workspace, message_id)
        row = _shown_row(workspace, person, message)
        moved = Delivery.objects.filter(pk=row.pk, clicked_at__isnull=True).update(
            clicked_at=timezone.now()
        )
    return bool(moved)


def panel(workspace: Workspace, person: Person) -> dict[str, Any]:
    """The bubble's panel: messages this user was shown (newest first) and their
    email subscription."""
    rows = (
        Delivery.objects.filter(
            workspace_id=workspace.pk,
            person=person,
            shown_at__isnull=False,
            message__channel=Message.Channel.IN_APP,
        )
        .select_related("message")
        .order_by("-shown_at", "-id")[:PANEL_LIMIT]
    )
    return {
        "messages": [content(d.message, d) for d in rows],
        "email_subscription": person.email_subscription,
        "has_email": bool(person.email),
    }


def resubscribe(person: Person) -> bool:
    """The user's own resubscribe from the bubble (SPEC §7), recorded with how and when."""
    return actions.change_subscription(person, True, source=SubscriptionChange.Source.BUBBLE)


# --- the snippet's answer (wired into pavior.tracking.lean.candidates_hook) ------------

# The version sent to a session that may not read personal messages.
UNVERIFIED = "unverified"


class _NotCached:
    """tracking_answer's answer when it was told not to read the database and
    would have to."""

    def __repr__(self) -> str:
        return "NOT_CACHED"


NOT_CACHED = _NotCached()


def tracking_answer(
    workspace: Workspace,
    person: Person | None,
    verified: bool,
    version: str,
    *,
    cached_only: bool = False,
) -> dict[str, Any] | None | _NotCached:
    """The "messages" block of a snippet batch's answer: the user's candidates
    and their version stamp, or None when the snippet's `version` is current.

    `launcher` says whether the bubble's launcher belongs on the page (the user
    has candidates or messages in their panel). One candidates_for call, which
    knows both (the shown messages are in the user's cached entry).

    With `cached_only`, no database is read: the answer comes from what is
    known without it (a session that may not read messages; the candidate
    cache, when targeting offers `cached_candidates`), else NOT_CACHED, and
    the caller asks again where blocking is fine (pavior.tracking.lean)."""
    if person is None:
        return None
    if not may_read_messages(workspace.identity_verification, verified):
        if version == UNVERIFIED:
            return None
        return {"version": UNVERIFIED, "candidates": [], "launcher": False}
    if cached_only:
        hit = targeting.cached_candidates(workspace, person)
        if hit is None:
            return NOT_CACHED
        found = hit
    else:
        found = targeting.candidates_for(workspace, person)
    if found.version == version:
        return None
    launcher = bool(found.messages) or found.shown_any
    return {"version": found.version, "candidates": found.messages, "launcher": launcher}
