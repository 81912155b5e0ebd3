"""Message actions (SPEC §12, §13): each state change is one function in one transaction.

Content is validated by the core's message rules; the audience through the
same filter parser as every other door (stored attributes and segments; a
live attribute is a 422), the rules through `core.messages.parse_rules`
(live attributes only). After a change commits, the workspace's candidate
cache is told (`targeting.messages_changed`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from pavior.core import messages as rules
from pavior.core.dates import parse_date
from pavior.core.errors import Conflict, InvalidValue, show_value
from pavior.messaging.models import Message
from pavior.messaging.queries import get_message
from pavior.messaging.rendering import render_html
from pavior.segments.saved import parse_workspace_filter
from pavior.workspaces.models import Workspace

# Fields a client may set; status moves through set_status.
CONTENT_FIELDS = (
    "kind",
    "title",
    "subject",
    "body",
    "audience",
    "rules",
    "delivery",
    "starts_at",
    "ends_at",
    "sender_name",
)

# Called with (message) after a message's status becomes live and that commits.
# The email outbox registers itself here (messaging/apps.py), so going live
# queues the audience without actions knowing how email is sent.
went_live_hooks: list[Any] = []


def _when(value: object, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise InvalidValue(f"{field}: {exc}", field=field) from exc


def _apply(workspace: Workspace, message: Message, data: dict[str, Any]) -> None:
    unknown = set(data) - set(CONTENT_FIELDS)
    if unknown:
        raise InvalidValue(
            f"Unknown field {show_value(sorted(unknown)[0])}", field=sorted(unknown)[0]
        )
    email = message.channel == Message.Channel.EMAIL
    if "kind" in data:
        if email:
            if data["kind"] not in (None, ""):
                raise InvalidValue("Email messages have no kind", field="kind")
        else:
            message.kind = rules.check_choice(data["kind"], rules.KINDS, "kind")
    if "title" in data:
        message.title = rules.check_text(data["title"], "title", rules.MAX_TITLE_LENGTH)
    if "subject" in data:
        message.subject = rules.check_text(data["subject"], "subject", rules.MAX_SUBJECT_LENGTH)
    if "body" in data:
        message.body = rules.check_text(data["body"], "body", rules.MAX_BODY_LENGTH)
    if "sender_name" in data:
        message.sender_name = rules.check_text(data["sender_name"], "sender_name", 200)
    if "audience" in data:
        parse_workspace_filter(workspace, data["audience"])
        message.audience = data["audience"] or {}
    if "rules" in data:
        if email and data["rules"]:
            raise InvalidValue(
                "Email messages have no live rules (they are not sent during a visit)",
                field="rules",
            )
        message.rules = rules.parse_rules(data["rules"]) or {}
    if "delivery" in data:
        if not email:
            if data["delivery"] not in (None, "", "once"):
                raise InvalidValue("delivery applies to email messages only", field="delivery")
        else:
            message.delivery = rules.check_choice(data["delivery"], rules.DELIVERIES, "delivery")
    if "starts_at" in data:
        message.starts_at = _when(data["starts_at"], "starts_at")
    if "ends_at" in data:
        message.ends_at = _when(data["ends_at"], "ends_at")
    rules.check_schedule(message.starts_at, message.ends_at)
    message.body_html = render_html(message.body)


def _check_complete(message: Message) -> None:
    """What a message needs before it may go live."""
    if not message.body.strip():
        raise InvalidValue("A message needs a body before it goes live", field="body")
    if message.channel == Message.Channel.EMAIL and not message.subject.strip():
        raise InvalidValue("An email needs a subject before it goes live", field="subject")
    if message.channel == Message.Channel.EMAIL:
        from pavior.messaging.mail import email_setup_problem

        problem = email_setup_problem()
        if problem is not None:
            raise problem
    if message.kind == Message.Kind.ANNOUNCEMENT and not message.title.strip():
        raise InvalidValue("An announcement needs a title before it goes live", field="title")


def _after_commit(message: Message, *, went_live: bool = False) -> None:
    from pavior.messaging import targeting

    workspace_id = message.workspace_id
    transaction.on_commit(lambda: targeting.messages_changed(workspace_id))
    if went_live:
        for hook in went_live_hooks:
            transaction.on_commit(partial(hook, message))


def create_message(
    workspace: Workspace,
    channel: object,
    data: dict[str, Any],
    *,
    status: object = "draft",
    sender: Any = None,
) -> Message:
    """A new message (a draft unless ``status`` is "live")."""
    message = Message(
        workspace=workspace,
        channel=rules.check_choice(channel, rules.CHANNELS, "channel"),
        sender=sender,
    )
    if message.channel == Message.Channel.IN_APP:
        message.kind = Message.Kind.ANNOUNCEMENT
    if sender is not None and not data.get("sender_name"):
        message.sender_name = sender.get_full_name() or sender.get_username()
    with transaction.atomic():
        _apply(workspace, message, data)
        new_status = rules.check_status_move("draft", status)
        if new_status == "archived":
            raise InvalidValue("A new message cannot be archived", field="status")
        if new_status == "live":
            _check_complete(message)
            message.went_live_at = timezone.now()
        message.status = new_status
        message.save()
        _after_commit(message, went_live=new_status == "live")
    return message


def update_message(
    workspace: Workspace, message_id: int, data: dict[str, Any], *, status: object = None
) -> Message:
    """Change content and/or status; archived messages are final."""
    with transaction.atomic():
        message = get_message(workspace, message_id)
        Message.objects.select_for_update().filter(pk=message.pk).exists()
        if message.status == Message.Status.ARCHIVED and (data or status not in (None, "archived")):
            raise Conflict("An archived message cannot be changed", code="message_archived")
        _apply(workspace, message, data)
        went_live = False
        if status is not None:
            new_status = rules.check_status_move(message.status, status)
            if new_status == "live" and message.status != "live":
                _check_complete(message)
                went_live = True
                message.went_live_at = message.went_live_at or timezone.now()
            message.status = new_status
        elif message.status == Message.Status.LIVE:
            _check_complete(message)
        message.save()
        _after_commit(message, went_live=went_live)
    return message


def delete_message(workspace: Workspace, message_id: int) -> None:
    """Delete a message and its delivery records; a live one must be paused first."""
    with transaction.atomic():
        message = get_message(workspace, message_id)
        if message.status == Message.Status.LIVE:
            raise Conflict(
                f"Message {show_value(str(message))} is live: pause or archive it first",
                code="message_live",
                field="id",
            )
        message.delete()
        workspace_id = workspace.pk
        from pavior.messaging import targeting

        transaction.on_commit(lambda: targeting.messages_changed(workspace_id))


# --- the user's own email choices (SPEC §7, §13) ---------------------------------------


def change_subscription(
    person: Any, subscribed: bool, *, source: str, message: Message | None = None
) -> bool:
    """Unsubscribe or resubscribe as the user's own action, recorded with how and when.

    Idempotent: a repeat changes nothing and records nothing. Returns whether
    the subscription moved.
    """
    from pavior.messaging.models import Delivery, SubscriptionChange
    from pavior.people.actions import set_subscription_by_user

    with transaction.atomic():
        moved = set_subscription_by_user(person, subscribed)
        if moved:
            SubscriptionChange.objects.create(
                workspace_id=person.workspace_id,
                person=person,
                subscribed=subscribed,
                source=source,
                message=message,
            )
            if not subscribed and message is not None:
                Delivery.objects.filter(
                    message=message, person=person, unsubscribed_at__isnull=True
                ).update(unsubscribed_at=timezone.now())
    return moved
