"""Saved segments: a named filter of a workspace (SPEC §11)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from pavior.workspaces.models import Workspace


class Segment(models.Model):
    # No index of its own: the unique (workspace, lower(name)) serves workspace lookups.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="segments", db_index=False
    )
    name = models.CharField(max_length=100)
    # The filter's JSON as the API takes it; parsed again at every use, so a
    # segment always means what its filter (and the segments it names) say now.
    filter = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("name"), name="segment_name_unique_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return self.name
