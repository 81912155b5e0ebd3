"""The workspace behind an app_id and its identity secrets, cached in-process.

Every tracking request needs both; reading them from the database each time
was two of the five statements of a single-event request. Entries live for
TTL_SECONDS. A change made in this process (a secret created or revoked, a
setting changed) clears the cache at once through model signals; another
process serving the intake notices within TTL_SECONDS, so a revoked secret
stops verifying everywhere within a few seconds.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from pavior.core.errors import PaviorError
from pavior.workspaces.models import IdentitySecret, Workspace

TTL_SECONDS = 5.0
# Unknown app_ids are cached too (a misconfigured site retries forever); the
# bound keeps a flood of made-up ids from growing the process.
MAX_ENTRIES = 10_000

_lock = threading.Lock()
_workspaces: dict[str, tuple[float, Workspace | None]] = {}
_secrets: dict[int, tuple[float, list[str]]] = {}


class UnknownAppId(PaviorError):
    code = "unknown_app_id"
    status = 404


def workspace_for_app_id(app_id: str) -> Workspace | None:
    """The workspace with this public app id, or None (cached for TTL_SECONDS)."""
    now = time.monotonic()
    hit = _workspaces.get(app_id)
    if hit is None or hit[0] <= now:
        ws = Workspace.objects.filter(app_id=app_id).first()
        with _lock:
            if len(_workspaces) >= MAX_ENTRIES:
                _workspaces.clear()
            _workspaces[app_id] = (now + TTL_SECONDS, ws)
        hit = (0.0, ws)
    # A copy: callers run on several threads and may touch the instance.
    return copy.copy(hit[1]) if hit[1] is not None else None


def require_workspace(app_id: str) -> Workspace:
    workspace = workspace_for_app_id(app_id)
    if workspace is None:
        raise UnknownAppId(f"No workspace has the app_id {app_id!r}", field="app_id")
    return workspace


def identity_secrets(workspace: Workspace) -> list[str]:
    """The workspace's active identity secrets (cached for TTL_SECONDS)."""
    now = time.monotonic()
    hit = _secrets.get(workspace.pk)
    if hit is None or hit[0] <= now:
        rows = IdentitySecret.objects.filter(workspace_id=workspace.pk)
        secrets = list(rows.values_list("secret", flat=True))
        with _lock:
            if len(_secrets) >= MAX_ENTRIES:
                _secrets.clear()
            _secrets[workspace.pk] = (now + TTL_SECONDS, secrets)
        return secrets
    return hit[1]


def clear(**_: Any) -> None:
    """Forget everything (a workspace or a secret changed in this process)."""
    with _lock:
        _workspaces.clear()
        _secrets.clear()


for _model in (Workspace, IdentitySecret):
    post_save.connect(clear, sender=_model, dispatch_uid=f"tracking-lookup-save-{_model.__name__}")
    post_delete.connect(
        clear, sender=_model, dispatch_uid=f"tracking-lookup-delete-{_model.__name__}"
    )
