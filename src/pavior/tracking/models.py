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
