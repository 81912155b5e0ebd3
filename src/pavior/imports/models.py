"""An import job: the uploaded file, how its columns map, and what happened."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from pavior.workspaces.models import Workspace


def _new_token() -> str:
    return uuid.uuid4().hex


class Mode(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"


class Status(models.TextChoices):
    UPLOADED = "uploaded"  # mapped / being validated in the wizard
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Import(models.Model):
    """One CSV import. The file lives in DATA_DIR/imports/<token>.csv.

    Progress and cancel requests go through small files beside it, not this
    row: the import holds one long write transaction (that is what makes it
    all-or-nothing), and on SQLite no other writer can commit meanwhile.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="imports")
    token = models.CharField(max_length=32, unique=True, default=_new_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=8, default="web")  # web, cli, api
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    header = models.JSONField(default=list, blank=True)
    # column index (as text) -> {"attribute": name, "type": t|None, "new": bool}
    mapping = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.UPSERT)
    empty_clears = models.BooleanField(default=False)
    day_first = models.BooleanField(null=True, blank=True)
    validation = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
