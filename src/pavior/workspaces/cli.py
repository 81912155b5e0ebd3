"""`pavior api-key` (registered into the `pavior` group): a workspace's REST API keys."""

from __future__ import annotations

import json

import click


@click.group("api-key")
def api_key() -> None:
    """Secret API keys of a workspace (for the REST API)."""


@api_key.command("create")
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--name", default="default", show_default=True, help="Where the key is used.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def key_create(app_id: str, name: str, as_json: bool) -> None:
    """Create a key; it is printed once and never shown again."""
    from pavior.cli import fail, setup_django, workspace_or_fail

    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.workspaces.actions import add_api_key

    ws = workspace_or_fail(app_id)
    try:
        key, row = add_api_key(ws, name)
    except PaviorError as e:
        fail(e.message)
        return
    if as_json:
        click.echo(json.dumps({"id": row.pk, "name": row.name, "api_key": key}))
        return
    click.echo(f"Created API key {row.pk} ({row.name}): {key}")
    click.echo("Keep it on your server; it is not shown again.")


@api_key.command("list")
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def key_list(app_id: str, as_json: bool) -> None:
    """List the keys (id, name, first characters, creation and last use)."""
    from pavior.cli import setup_django, workspace_or_fail

    setup_django()
    ws = workspace_or_fail(app_id)
    rows = [
        {
            "id": k.pk,
            "name": k.name,
            "prefix": k.prefix,
            "created_at": k.created_at.isoformat(),
            "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
        }
        for k in ws.api_keys.order_by("created_at", "pk")
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No API key. Create one with: pavior api-key create --workspace " + app_id)
    for r in rows:
        used = r["last_used_at"] or "never"
        click.echo(
            f"{r['id']}  {r['prefix']}…  {r['name']}  created {r['created_at']}  used {used}"
        )


@api_key.command("revoke")
@click.argument("key_id", type=int)
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def key_revoke(key_id: int, app_id: str, as_json: bool) -> None:
    """Revoke a key: calls made with it get 401 at once."""
    from pavior.cli import fail, setup_django, workspace_or_fail

    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.workspaces.actions import revoke_api_key

    try:
        name = revoke_api_key(workspace_or_fail(app_id), key_id)
    except PaviorError as e:
        fail(e.message)
        return
    if as_json:
        click.echo(json.dumps({"id": key_id, "name": name, "revoked": True}))
        return
    click.echo(f"Revoked API key {key_id} ({name}).")


def register(group: click.Group) -> None:
    """Add this package's commands to the `pavior` group."""
    group.add_command(api_key)
