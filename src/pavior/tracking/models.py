"""Raw website (and other) activity: the append-only record every derived
attribute can be recomputed from (SPEC §3)."""

from __future__ import annotations

from django.db import models

from pavior.people.models import Person
from pavior.workspaces.models import Workspace


class RawEvent(models.Model):
    """One activity, stored once per (workspace, message_id).

    Rows are only ever inserted (and removed with their person when a user is
    erased); `at` is already corrected for the browser's clock skew.
    """

    # Neither key gets an index of its own: (workspace, message_id) and
    # (person, at) below start with them, and every index costs each insert.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="raw_events", db_index=False
    )
    message_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    # Website activity counts towards visits and time; other activity (an
    # email, a server-side event) only moves last_activity_at.
    website = models.BooleanField(default=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField()
    data = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "message_id"], name="rawevent_message_unique"
            )
        ]
        indexes = [models.Index(fields=["person", "at"], name="rawevent_person_at")]


class PendingEvent(models.Model):
    """An acknowledged event not yet folded into its user (pavior.tracking.folder).

    With the folder on (`pavior serve` runs it in its worker), the intake
    stores a known or new visitor's page views and heartbeats here and answers
    once that is committed; the folder then moves batches of them into
    RawEvent and the user's derived attributes, in one transaction per batch,
    and deletes them here. Rows live for about a second.

    No foreign-key constraints and no index but the unique one: the row is
    written on the intake's hot path, where each costs every insert. Erasing a
    user deletes their pending rows with them (Django's cascade: a scan of a
    table that holds about a second of events); a row written for a user
    erased meanwhile is dropped by the folder.
    """

    workspace_id = models.BigIntegerField()
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    message_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    website = models.BooleanField(default=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField()
    data = models.JSONField(null=True, blank=True)
    # GeoIP of the request that brought the event (applied as derive() does).
    city = models.CharField(max_length=1000, null=True, blank=True)
    country = models.CharField(max_length=1000, null=True, blank=True)

    class Meta:
        constraints = [
            # A retry of a batch still waiting here is a duplicate, as in RawEvent.
            models.UniqueConstraint(
                fields=["workspace_id", "message_id"], name="pendingevent_message_unique"
            )
        ]
