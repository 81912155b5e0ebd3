"""What the admin pages remember per team member."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from pavior.workspaces.models import Workspace


class ColumnPreference(models.Model):
    """The users-list columns a team member chose, in order, for one workspace.

    Stored as attribute API names; names of attributes since archived or
    deleted are skipped when shown, so no cleanup is needed on deletion.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="column_preferences"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    columns = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="column_pref_unique")
        ]


class LastWorkspace(models.Model):
    """The workspace a team member looked at last: where their next sign-in lands
    (the session that knew it ends at sign-out)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
