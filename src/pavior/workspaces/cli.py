"""What every package's `cli.py` shares: Django set-up, a one-line failure, the
workspace of an --workspace APP_ID. Here, low in the package order, so that
those modules never import `pavior.cli` (which registers them)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django

    django.setup()


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def workspace_or_fail(app_id: str) -> Any:
    """The workspace with this app_id; a clear error and exit 2 when there is none."""
    from pavior.workspaces.models import Workspace

    ws = Workspace.objects.filter(app_id=app_id).first()
    if ws is None:
        fail(f"No workspace with app_id {app_id}")
    return ws
