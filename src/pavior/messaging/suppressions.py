"""Email suppressions (SPEC §13): hard bounces and complaints, from an email
service's webhook through django-anymail's normalised tracking events.

An email service reports an event for a recipient address. Which workspace
sent it: the sender puts the workspace's id into the message's metadata under
``pavior_workspace`` (anymail's ``metadata``; Postmark, Mailgun, SendGrid and
the others hand it back on every tracking event). An event without it is
matched to the workspaces that have emailed a user with that address (their
email Delivery rows); an event naming no known workspace records nothing.

Addresses are kept lowercased and stripped, and compared that way with users'
emails (which keep the case they were given), so ``Ada@Example.com`` bounced
means ``ada@example.com`` is suppressed too.

What counts: a ``bounced`` event (a hard bounce; Postmark's soft bounces,
which anymail also reports as ``bounced``, are told apart by their ESP type
and ignored), a ``rejected`` event whose reason is ``bounced`` or ``invalid``
(the service refused a known-bad address), and a ``complained`` event (the
recipient marked the email as spam). Deferrals, deliveries, opens and clicks
change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from pavior.messaging.models import Delivery, Message, Suppression
from pavior.people.models import Person
from pavior.workspaces.models import Workspace

log = logging.getLogger(__name__)

# The metadata key the sender sets to the workspace's id (a string of digits).
WORKSPACE_KEY = "pavior_workspace"
MAX_EMAIL_LENGTH = 1000
MAX_DETAIL_LENGTH = 500

# Postmark bounce types that anymail normalises as "bounced" but are not hard bounces.
_SOFT_ESP_TYPES = {"SoftBounce", "Transient", "DnsError", "AutoResponder", "VirusNotification"}


def normalise_email(address: object) -> str:
    """The form suppressions are stored and compared in ('' when not an address)."""
    if not isinstance(address, str):
        return ""
    address = address.strip().lower()
    if not address or len(address) > MAX_EMAIL_LENGTH or "@" not in address:
        return ""
    return address


def reason_of(event: Any) -> str | None:
    """Suppression.Reason for a normalised anymail tracking event, else None."""
    kind = getattr(event, "event_type", None)
    if kind == "complained":
        return Suppression.Reason.COMPLAINT
    if kind == "bounced":
        esp = getattr(event, "esp_event", None)
        if isinstance(esp, dict) and esp.get("Type") in _SOFT_ESP_TYPES:
            return None
        return Suppression.Reason.BOUNCE
    if kind == "rejected" and getattr(event, "reject_reason", None) in ("bounced", "invalid"):
        return Suppression.Reason.BOUNCE
    return None


def _named_workspace(metadata: object) -> Workspace | None | bool:
    """The workspace the metadata names; None if it names none; False if it names a bad one."""
    if not isinstance(metadata, dict) or WORKSPACE_KEY not in metadata:
        return None
    raw = metadata[WORKSPACE_KEY]
    text = str(raw).strip() if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not text.isdigit() or len(text) > 18:
        return False
    return Workspace.objects.filter(pk=int(text)).first() or False


def workspaces_that_emailed(email: str) -> list[Workspace]:
    """Workspaces with an email Delivery to a user whose address is ``email``."""
    ids = (
        Delivery.objects.filter(
            message__channel=Message.Channel.EMAIL,
            person__email__iexact=email,
        )
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    return list(Workspace.objects.filter(pk__in=list(ids)).order_by("pk"))


@dataclass(frozen=True)
class Recorded:
    workspace_id: int
    email: str
    reason: str
    created: bool


def record_tracking_event(event: Any, esp_name: str = "") -> list[Recorded]:
    """Record a hard bounce or complaint as a Suppression in each workspace it concerns.

    One transaction; a repeat of an event (services retry webhooks) records
    nothing new. A complaint outranks a bounce already on file (it is the
    stronger statement), a bounce never overwrites a complaint.
    """
    reason = reason_of(event)
    email = normalise_email(getattr(event, "recipient", None))
    if reason is None or not email:
        return []
    named = _named_workspace(getattr(event, "metadata", None))
    if named is False:
        log.warning("%s %s event names an unknown workspace: ignored", esp_name, reason)
        return []
    targets = [named] if isinstance(named, Workspace) else workspaces_that_emailed(email)
    if not targets:
        log.info("%s %s event for an address no workspace emailed: ignored", esp_name, reason)
        return []
    detail = _detail(event, esp_name)
    out = []
    with transaction.atomic():
        for ws in targets:
            out.append(suppress(ws, email, reason, detail=detail))
    return out


def suppress(workspace: Workspace, email: str, reason: str, *, detail: str = "") -> Recorded:
    """Suppress ``email`` in ``workspace`` (idempotent; a complaint upgrades a bounce)."""
    email = normalise_email(email)
    if not email:
        raise ValueError("not an email address")
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(workspace=workspace, email=email)
        existing = row.first()
        if existing is not None:
            if reason == Suppression.Reason.COMPLAINT and existing.reason != reason:
                row.update(reason=reason, detail=detail[:MAX_DETAIL_LENGTH])
                return Recorded(workspace.pk, email, reason, False)
            return Recorded(workspace.pk, email, existing.reason, False)
        try:
            with transaction.atomic():
                Suppression.objects.create(
                    workspace=workspace,
                    email=email,
                    reason=reason,
                    detail=detail[:MAX_DETAIL_LENGTH],
                )
        except IntegrityError:  # a concurrent webhook recorded it first
            return Recorded(workspace.pk, email, reason, False)
    return Recorded(workspace.pk, email, reason, True)


def _detail(event: Any, esp_name: str) -> str:
    parts = [esp_name] if esp_name else []
    for name in ("description", "mta_response"):
        value = getattr(event, name, None)
        if isinstance(value, str) and value.strip():
            parts.append(" ".join(value.split()))
    return ": ".join(parts)[:MAX_DETAIL_LENGTH]


def on_tracking(sender: Any, event: Any, esp_name: str = "", **kwargs: Any) -> None:
    """anymail's ``tracking`` signal receiver (connected in messaging/apps.py)."""
    record_tracking_event(event, esp_name)


# --- reading ---------------------------------------------------------------------------


def suppression_of(person: Person) -> Suppression | None:
    """The Suppression that stops email to this user, if any."""
    email = normalise_email(person.email)
    if not email:
        return None
    return Suppression.objects.filter(workspace_id=person.workspace_id, email=email).first()


def is_suppressed(workspace_id: int, email: object) -> bool:
    """Whether Pavior must not email ``email`` in this workspace (for the sender's check)."""
    address = normalise_email(email)
    return bool(address) and (
        Suppression.objects.filter(workspace_id=workspace_id, email=address).exists()
    )


def suppressed_people(workspace: Workspace) -> Q:
    """A condition on Person: their address is suppressed in this workspace (any case)."""
    return Q(
        Exists(
            Suppression.objects.filter(workspace_id=workspace.pk, email=Lower(OuterRef("email")))
        )
    )
