"""`pavior recompute` and `pavior identity-secret` (registered into the `pavior` group)."""

from __future__ import annotations

import json
from typing import Any

import click


def _workspace(app_id: str) -> Any:
    from pavior.workspaces.cli import workspace_or_fail

    return workspace_or_fail(app_id)


@click.command()
@click.option("--workspace", "app_id", help="Only this workspace (APP_ID); default: all.")
def recompute(app_id: str | None) -> None:
    """Rebuild visits, time spent, last seen and last activity from the raw events."""
    from pavior.workspaces.cli import setup_django

    setup_django()
    from pavior.tracking.actions import recompute_workspaces
    from pavior.tracking.folder import fold_all
    from pavior.workspaces.models import Workspace

    fold_all()  # events acknowledged but not yet folded count too
    workspaces = [_workspace(app_id)] if app_id else list(Workspace.objects.order_by("pk"))
    count = recompute_workspaces(workspaces)
    click.echo(f"Recomputed {count} user(s) in {len(workspaces)} workspace(s).")


@click.group("identity-secret")
def identity_secret() -> None:
    """Identity-verification (HMAC) secrets of a workspace."""


@identity_secret.command("create")
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def secret_create(app_id: str, as_json: bool) -> None:
    """Create a secret; it is printed once and never shown again."""
    from pavior.workspaces.cli import setup_django

    setup_django()
    from pavior.workspaces.actions import create_identity_secret

    secret, row = create_identity_secret(_workspace(app_id))
    if as_json:
        click.echo(json.dumps({"id": row.pk, "secret": secret}))
        return
    click.echo(f"Created identity secret {row.pk}: {secret}")
    click.echo("Keep it on your server; it is not shown again.")


@identity_secret.command("list")
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def secret_list(app_id: str, as_json: bool) -> None:
    """List the active secrets (id, first characters, creation time)."""
    from pavior.workspaces.cli import setup_django

    setup_django()
    from pavior.workspaces.models import IdentitySecret

    rows = [
        {"id": s.pk, "prefix": s.prefix, "created_at": s.created_at.isoformat()}
        for s in IdentitySecret.objects.filter(workspace=_workspace(app_id)).order_by("pk")
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for r in rows:
        click.echo(f"{r['id']}  {r['prefix']}…  created {r['created_at']}")


@identity_secret.command("revoke")
@click.argument("secret_id", type=int)
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
def secret_revoke(secret_id: int, app_id: str) -> None:
    """Revoke a secret: hashes made with it stop verifying at once."""
    from pavior.workspaces.cli import fail, setup_django

    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.workspaces.actions import revoke_identity_secret

    try:
        revoke_identity_secret(_workspace(app_id), secret_id)
    except PaviorError as e:
        fail(e.message)
    click.echo(f"Revoked identity secret {secret_id}.")


def register(group: click.Group) -> None:
    """Add this package's commands to the `pavior` group."""
    group.add_command(recompute)
    group.add_command(identity_secret)
