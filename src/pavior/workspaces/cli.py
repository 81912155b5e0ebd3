"""The helpers every package's `cli.py` shares (Django set-up that migrates
first, a one-line failure, the workspace of an --workspace APP_ID, how this
`pavior` was invoked), and `pavior api-key`. Here, low in the package order, so
those modules never import `pavior.cli` (which registers them)."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
from typing import Any

import click


def setup_django(*, migrate: bool = True) -> None:
    """Django, and a database that is up to date: every command that needs the
    database works on a fresh data dir, as `serve` does (SPEC §10)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pavior.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as e:  # a bad setting, e.g. PAVIOR_SMTP_URL: one line
        fail(str(e))
    if migrate:
        migrate_if_needed()


def migrate_if_needed() -> None:
    """Apply pending migrations; one line and exit 2 when the database is unreachable."""
    from django.core.management import call_command
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    # The pool logs each failed connection attempt; the one line below says it all.
    pool_log = logging.getLogger("psycopg.pool")
    level = pool_log.level
    pool_log.setLevel(logging.CRITICAL)
    try:
        # Reading the plan is cheap; `migrate` itself costs a second even when idle.
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        fail(
            f"Cannot prepare the database ({reason}). Check DATABASE_URL or "
            f"PAVIOR_DATA_DIR, then run: {invoked_as()} manage migrate"
        )
    finally:
        pool_log.setLevel(level)


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


def invoked_as(argv0: str | None = None) -> str:
    """How to run this same `pavior` again from the current directory.

    `pavior` only when that name on PATH is this very program: inside a venv
    that is not activated it is not, and `.venv/bin/pavior` is what works.
    """
    argv0 = argv0 if argv0 is not None else sys.argv[0]
    if os.path.basename(argv0) in ("cli.py", "__main__.py", "-c", ""):
        return f"{_shortest_path(sys.executable)} -m pavior.cli"
    path = os.path.abspath(argv0)
    on_path = shutil.which("pavior")
    if on_path and os.path.realpath(on_path) == os.path.realpath(path):
        return "pavior"
    return _shortest_path(path)


def _shortest_path(path: str) -> str:
    relative = os.path.relpath(path)
    shown = relative if not relative.startswith("..") else path
    if os.sep not in shown:
        shown = os.path.join(".", shown)  # `pavior` alone would search PATH
    return shlex.quote(shown)


@click.group("api-key")
def api_key() -> None:
    """Secret API keys of a workspace (for the REST API)."""


@api_key.command("create")
@click.option("--workspace", "app_id", required=True, help="The workspace's APP_ID.")
@click.option("--name", default="default", show_default=True, help="Where the key is used.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def key_create(app_id: str, name: str, as_json: bool) -> None:
    """Create a key; it is printed once and never shown again."""
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
