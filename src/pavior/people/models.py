"""People (the business's end users) and their custom-attribute definitions.

Built-in attributes are typed columns so filters and sorts on them use plain
indexes; custom values live in one JSON column keyed by attribute name, typed
as JSON values (dates as epoch seconds, so numeric order is time order).
"""

from __future__ import annotations

from django.db import models

from pavior.core.attributes import AttrType
from pavior.workspaces.models import Workspace

TYPE_CHOICES = [(t.value, t.value) for t in AttrType]


class AttributeDefinition(models.Model):
    # No index of its own: the unique (workspace, name) serves workspace lookups.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="attributes", db_index=False
    )
    name = models.CharField(max_length=64)
    type = models.CharField(max_length=8, choices=TYPE_CHOICES)
    archived = models.BooleanField(default=False)
    browser_writable = models.BooleanField(default=True)
    # Whether the attribute's values are copied into IndexedValue (below):
    # "" no, "building" the copy is being backfilled (database triggers keep new
    # writes in step already), "ready" complete, so queries may read it.
    index_state = models.CharField(max_length=8, default="", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="attribute_name_unique")
        ]
        indexes = [
            # What the side table's triggers look up on every insert of a user:
            # empty for a workspace that indexes nothing, so that costs one probe.
            models.Index(
                fields=["workspace"],
                name="attribute_indexed",
                condition=~models.Q(index_state=""),
            )
        ]


class Person(models.Model):
    """One end user of a business. `external_id` is the API's `id`."""

    # No index of its own: every index below starts with workspace, and each
    # extra index costs every write (an import of 1M users updates them all).
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="people", db_index=False
    )
    external_id = models.CharField(max_length=1000)
    email = models.CharField(max_length=1000, null=True, blank=True)
    name = models.CharField(max_length=1000, null=True, blank=True)
    first_name = models.CharField(max_length=1000, null=True, blank=True)
    last_name = models.CharField(max_length=1000, null=True, blank=True)
    phone = models.CharField(max_length=1000, null=True, blank=True)
    city = models.CharField(max_length=1000, null=True, blank=True)
    country = models.CharField(max_length=1000, null=True, blank=True)
    total_visits = models.IntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    first_known_at = models.DateTimeField(null=True, blank=True)
    signed_up_at = models.DateTimeField(null=True, blank=True)
    email_subscription = models.BooleanField(default=True)
    # When a browser call first proved who this user is (SPEC §6): from then on
    # unverified browser calls for them are refused.
    verified_at = models.DateTimeField(null=True, blank=True)
    total_time_spent = models.FloatField(default=0)
    custom = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="person_id_unique")
        ]
        indexes = [
            models.Index(fields=["workspace", "email"], name="person_email"),
            # (workspace, last_seen_at DESC NULLS LAST, external_id) replaces the plain
            # last_seen_at index: the list's default sort reads it in order and
            # range filters use it too. SQLite cannot say NULLS LAST in an index
            # (its DESC already puts NULL last), so migration 0002 creates it per
            # database, with the PostgreSQL trigram index for "email contains".
            models.Index(fields=["workspace", "signed_up_at"], name="person_signed_up"),
            models.Index(fields=["workspace", "country"], name="person_country"),
        ]

    def __str__(self) -> str:
        return self.external_id


class IndexedValue(models.Model):
    """One indexed custom attribute's value of one user, typed (docs/benchmarks-reports.md).

    A narrow copy of `Person.custom[attribute]` for the attributes whose
    `index_state` is set, so counts, breakdowns and histograms read a covering
    index instead of every user's JSON document. Strings go to `value_text`;
    numbers, dates (epoch seconds) and booleans (0/1) to `value_number`.

    Written only by database triggers on people_person (migration 0005), for
    every write path at once: the ORM, the tracking writer, the CSV import's
    set-based merge, an attribute's delete, a user's erase. Nothing in Python
    writes this table except the backfill (pavior.people.indexed).
    """

    pk = models.CompositePrimaryKey("person_id", "attribute_id")
    # No database foreign keys: each would cost every trigger insert a lookup;
    # the triggers delete a user's rows with the user, an attribute's with it.
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    attribute = models.ForeignKey(
        AttributeDefinition,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    value_text = models.TextField(null=True)
    value_number = models.FloatField(null=True)

    class Meta:
        indexes = [
            # Covering, and partial so each row is in one of them only.
            models.Index(
                fields=["attribute", "value_text", "person"],
                name="indexedvalue_text",
                condition=models.Q(value_text__isnull=False),
            ),
            models.Index(
                fields=["attribute", "value_number", "person"],
                name="indexedvalue_number",
                condition=models.Q(value_number__isnull=False),
            ),
        ]
