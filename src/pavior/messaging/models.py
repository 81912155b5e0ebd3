"""Messages, their deliveries, and email suppressions (SPEC §12, §13).

One Delivery row per (message, user), unique: for in-site messages it is the
display record (at most one display per user, across tabs and devices); for
email it is the outbox row, inserted in the same transaction as the decision
to send, so a user gets a message at most once, ever.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pavior.people.models import Person
from pavior.workspaces.models import Workspace


class Message(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app"
        EMAIL = "email"

    class Kind(models.TextChoices):
        CHAT = "chat"
        ANNOUNCEMENT = "announcement"

    class Status(models.TextChoices):
        DRAFT = "draft"
        LIVE = "live"
        PAUSED = "paused"
        ARCHIVED = "archived"

    class Delivery(models.TextChoices):
        ONCE = "once"
        ONGOING = "ongoing"

    # No index of its own: (workspace, status) below serves workspace lookups.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(max_length=200, blank=True, default="")  # in-site
    subject = models.CharField(max_length=200, blank=True, default="")  # email
    body = models.TextField(blank=True, default="")  # Markdown, as written
    body_html = models.TextField(blank=True, default="")  # sanitised, rendered on save
    # The filter JSON as the API takes it (stored attributes and segments),
    # parsed again at each use so a segment means what it says now.
    audience = models.JSONField(default=dict, blank=True)
    # Live-attribute rules, normalised by pavior.core.messages.parse_rules.
    rules = models.JSONField(default=dict, blank=True)
    delivery = models.CharField(
        max_length=8, choices=Delivery.choices, default=Delivery.ONCE, blank=True
    )
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # A chat message is from a team member: their name is shown with it.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    sender_name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    went_live_at = models.DateTimeField(null=True, blank=True)
    # Email: when the audience was last put into the outbox in full (going live;
    # for `ongoing`, each minute's check). Empty = still to do (messaging/outbox.py).
    audience_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "status"], name="message_status")]

    def __str__(self) -> str:
        return self.title or self.subject or f"message {self.pk}"


class Delivery(models.Model):
    class State(models.TextChoices):
        SHOWN = "shown"  # in-site: displayed
        PENDING = "pending"  # email: decided, waiting for a worker
        SENDING = "sending"  # email: claimed; SMTP may have been spoken
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"  # email: no address, unsubscribed or suppressed at send time

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, db_index=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=8, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    shown_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    # Email outbox bookkeeping.
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "person"], name="delivery_once_per_user")
        ]
        indexes = [models.Index(fields=["message", "state"], name="delivery_state")]


class Suppression(models.Model):
    """An address Pavior must not email: a hard bounce or a complaint."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce"
        COMPLAINT = "complaint"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, db_index=False)
    email = models.CharField(max_length=1000)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "email"], name="suppression_unique")
        ]


class SubscriptionChange(models.Model):
    """Who moved a user's email subscription, how and when (shown on the profile)."""

    class Source(models.TextChoices):
        BUBBLE = "bubble"  # the user, in the Pavior bubble
        UNSUBSCRIBE_LINK = "unsubscribe_link"  # the user, from an email
        ONE_CLICK = "one_click"  # the user's mail client (RFC 8058)

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, db_index=False)
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="subscription_changes"
    )
    subscribed = models.BooleanField()
    source = models.CharField(max_length=20, choices=Source.choices)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
