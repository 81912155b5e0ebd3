"""What one user was shown or sent, how their email subscription moved, and
why they get no email (the profile page, SPEC §7, §13).

Plain data for the page: times are datetimes (the web layer formats them in
the workspace's zone), labels are the words the profile shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pavior.messaging.models import Delivery, Message, SubscriptionChange, Suppression
from pavior.messaging.suppressions import suppression_of
from pavior.people.models import Person

MAX_DELIVERIES = 50
MAX_CHANGES = 50

SOURCE_LABELS: dict[str, str] = {
    SubscriptionChange.Source.BUBBLE: "the user, from the Pavior bubble",
    SubscriptionChange.Source.UNSUBSCRIBE_LINK: "the user, from an email's unsubscribe link",
    SubscriptionChange.Source.ONE_CLICK: "one-click unsubscribe from a mail client",
}

_EMAIL_STATES: dict[str, str] = {
    Delivery.State.PENDING: "Waiting to be sent",
    Delivery.State.SENDING: "Sending",
    Delivery.State.SENT: "Sent",
    Delivery.State.FAILED: "Failed",
    Delivery.State.SKIPPED: "Skipped",
}


@dataclass(frozen=True)
class DeliveryLine:
    message_id: int
    name: str
    channel: str  # "In-site" | "Email"
    state: str  # what happened last, in words
    reason: str
    at: datetime | None
    unsubscribed_at: datetime | None


@dataclass(frozen=True)
class ChangeLine:
    subscribed: bool
    how: str
    message_name: str
    at: datetime


@dataclass(frozen=True)
class Blocker:
    """One reason Pavior sends this user no email."""

    code: str  # no_email | unsubscribed | bounce | complaint
    text: str
    at: datetime | None = None
    detail: str = ""


@dataclass
class EmailHistory:
    deliveries: list[DeliveryLine] = field(default_factory=list)
    more_deliveries: bool = False
    changes: list[ChangeLine] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)


def _message_name(message: Message | None) -> str:
    if message is None:
        return ""
    return message.subject or message.title or f"Message {message.pk}"


def _delivery_line(d: Delivery) -> DeliveryLine:
    email = d.message.channel == Message.Channel.EMAIL
    if email:
        state = _EMAIL_STATES.get(d.state, d.state)
        at = d.sent_at or d.created_at
    elif d.clicked_at:
        state, at = "Clicked", d.clicked_at
    elif d.dismissed_at:
        state, at = "Dismissed", d.dismissed_at
    else:
        state, at = "Shown", d.shown_at or d.created_at
    return DeliveryLine(
        message_id=d.message_id,
        name=_message_name(d.message),
        channel="Email" if email else "In-site",
        state=state,
        reason=d.reason,
        at=at,
        unsubscribed_at=d.unsubscribed_at,
    )


def email_history(person: Person) -> EmailHistory:
    """The profile's messages, subscription history and email blockers for one user."""
    rows = list(
        Delivery.objects.filter(person=person)
        .select_related("message")
        .order_by("-created_at", "-pk")[: MAX_DELIVERIES + 1]
    )
    changes = (
        SubscriptionChange.objects.filter(person=person)
        .select_related("message")
        .order_by("-at", "-pk")[:MAX_CHANGES]
    )
    history = EmailHistory(
        deliveries=[_delivery_line(d) for d in rows[:MAX_DELIVERIES]],
        more_deliveries=len(rows) > MAX_DELIVERIES,
        changes=[
            ChangeLine(
                subscribed=c.subscribed,
                how=SOURCE_LABELS.get(c.source, c.source),
                message_name=_message_name(c.message),
                at=c.at,
            )
            for c in changes
        ],
    )
    history.blockers = blockers(person, history.changes)
    return history


def blockers(person: Person, changes: list[ChangeLine] | None = None) -> list[Blocker]:
    """Why this user gets no email; empty when they may get it."""
    out = []
    if not (person.email or "").strip():
        out.append(Blocker("no_email", "No email address"))
    if not person.email_subscription:
        last = next((c for c in (changes or []) if not c.subscribed), None)
        if last is None:
            last_row = (
                SubscriptionChange.objects.filter(person=person, subscribed=False)
                .order_by("-at", "-pk")
                .first()
            )
            if last_row is not None:
                last = ChangeLine(False, SOURCE_LABELS.get(last_row.source, ""), "", last_row.at)
        if last is not None:
            out.append(Blocker("unsubscribed", f"Unsubscribed by {last.how}", last.at))
        else:
            out.append(
                Blocker(
                    "unsubscribed",
                    "Unsubscribed (Email subscription was set to false by an import, "
                    "the API or your backend)",
                )
            )
    suppression = suppression_of(person)
    if suppression is not None:
        text = (
            "Suppressed: the address bounced (hard bounce)"
            if suppression.reason == Suppression.Reason.BOUNCE
            else "Suppressed: the user marked an email as spam (complaint)"
        )
        out.append(Blocker(suppression.reason, text, suppression.created_at, suppression.detail))
    return out
