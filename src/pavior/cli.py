"""The `pavior` command (see docs/cli.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import click


def uvicorn_options() -> dict[str, Any]:
    """How `pavior serve` (and the tests' served app) runs uvicorn."""
    from django.conf import settings

    # uvicorn believes X-Forwarded-For/-Proto only from the proxies Pavior
    # trusts (by default it would from any local peer, letting anyone on the
    # machine pick the address that sign-in locks, rate limits and GeoIP key on).
    return {"lifespan": "off", "forwarded_allow_ips": settings.PAVIOR_TRUSTED_PROXIES}


# Past this, more processes mostly add database connections (each process
# keeps a pool); pass --workers to go further.
MAX_DEFAULT_WORKERS = 8


# Shared with every package's cli.py (in workspaces/cli.py: they may not import this
# module, which sits above them all and registers their commands).
from pavior.workspaces.cli import fail, invoked_as, setup_django  # noqa: E402


@click.group()
@click.version_option(package_name="pavior")
def main() -> None:
    """Pavior: attributes on every user of your business."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Do not run the background worker.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help=(f"Web processes [default: one per CPU core, at most {MAX_DEFAULT_WORKERS}]."),
)
def serve(host: str, port: int, no_worker: bool, workers: int | None) -> None:
    """Migrate the database if needed, then serve everything in one command."""
    setup_django()  # migrates the database if needed
    from django.conf import settings

    from pavior import db_statistics

    db_statistics.refresh_quietly()  # a fresh install has none; the worker keeps them
    workers = workers or default_workers()
    _print_first_steps(host, port)
    worker = None
    if not no_worker:
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "pavior.cli", "worker"], preexec_fn=_die_with_parent
        )
    import uvicorn

    try:
        uvicorn.run(
            "pavior.asgi:application",
            host=host,
            port=port,
            workers=workers if workers > 1 else None,
            log_level="warning" if not settings.DEBUG else "info",
            access_log=settings.DEBUG,
            **uvicorn_options(),
        )
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()


def default_workers() -> int:
    """One web process per CPU core this process may use, at most
    MAX_DEFAULT_WORKERS: each has its own event loop and tracking writer, and
    Python's GIL binds one process to one core. What they must agree on is
    shared: the database, the cache (Redis with REDIS_URL, else one SQLite
    file in the data dir: pavior.sqlite_cache) and the rate-limit counters.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _die_with_parent() -> None:
    """In the worker, before exec: ask Linux to SIGTERM it when `pavior serve` dies.

    uvicorn re-raises SIGTERM once it has shut down, so serve's own cleanup
    may never run; without this the worker would outlive it.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: serve's finally-block below still stops it on Ctrl+C


def _print_first_steps(host: str, port: int) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from pavior.workspaces.models import Workspace

    url = f"http://{host}:{port}/"
    click.echo(f"Pavior is serving on {url}  (data: {settings.DATA_DIR})")
    me = invoked_as()
    steps = []
    if not Workspace.objects.exists():
        steps.append(f"{me} workspace create 'My business'      # prints app_id + API key")
    if not get_user_model().objects.exists():
        steps.append(f"{me} user create-admin you@example.com   # your login for the web UI")
    if steps:
        click.echo(f"First steps: open {url} in a browser, or in another terminal:")
        for step in steps:
            click.echo(f"  {step}")


@main.command()
def worker() -> None:
    """Run the background worker (imports, email sending, planner statistics, other long jobs)."""
    setup_django()
    from django.core.management import call_command

    from pavior import db_statistics
    from pavior.messaging.sending import start_worker_thread
    from pavior.tracking import folder

    db_statistics.start_refreshing()
    email, stop = start_worker_thread()  # the outbox, beside the task worker
    # Tracked events into their users: always, so that events left pending (by a
    # server that ran with PAVIOR_FOLD_IN_WORKER) are folded whatever this one's setting.
    folders, stop_folding = folder.start_threads()
    try:
        call_command("db_worker", interval=0.5)
    finally:
        stop.set()
        stop_folding.set()
        email.join(timeout=60)
        for fold in folders:
            fold.join(timeout=30)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command (migrate, shell, ...)."""
    setup_django(migrate=False)  # the command may be `migrate APP 0003` itself
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pavior manage", *args])


@main.group()
def workspace() -> None:
    """Workspaces (one per business)."""


@workspace.command("create")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def workspace_create(name: str, as_json: bool) -> None:
    """Create a workspace; prints its app_id, a secret api_key and an identity_secret."""
    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.workspaces.actions import create_workspace

    try:
        new = create_workspace(name)
    except PaviorError as e:
        fail(e.message)
        return
    data = {
        "app_id": new.workspace.app_id,
        "api_key": new.api_key,
        "identity_secret": new.identity_secret,
    }
    if as_json:
        click.echo(json.dumps(data))
        return
    click.echo(f"Created workspace {name!r}.")
    click.echo(f"  app_id:          {data['app_id']}   (public: goes in the website snippet)")
    click.echo(f"  api_key:         {data['api_key']}   (secret: REST API, shown once)")
    click.echo(f"  identity_secret: {data['identity_secret']}   (secret: HMAC, shown once)")


@workspace.command("list")
@click.option("--json", "as_json", is_flag=True)
def workspace_list(as_json: bool) -> None:
    """List workspaces."""
    setup_django()
    from pavior.workspaces.models import Workspace

    rows = [{"name": w.name, "app_id": w.app_id} for w in Workspace.objects.order_by("pk")]
    if as_json:
        click.echo(json.dumps(rows))
    for row in [] if as_json else rows:
        click.echo(f"{row['app_id']}  {row['name']}")


@main.group()
def user() -> None:
    """Team members (logins for the web UI)."""


@user.command("create-admin")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--workspace", "app_ids", multiple=True, help="Limit to these workspaces (default: all)."
)
def create_admin_command(email: str, password_stdin: bool, app_ids: tuple[str, ...]) -> None:
    """Create a team member who signs in with EMAIL."""
    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.workspaces.actions import create_admin
    from pavior.workspaces.models import Workspace

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    workspaces: list[Any] | None = None
    if app_ids:
        workspaces = list(Workspace.objects.filter(app_id__in=app_ids))
        missing = set(app_ids) - {w.app_id for w in workspaces}
        if missing:
            fail(f"No workspace with app_id {', '.join(sorted(missing))}")
    try:
        create_admin(email, password, workspaces=workspaces)
    except PaviorError as e:
        fail(e.message)
    click.echo(f"Created team member {email.strip().lower()}.")


def _register_package_commands() -> None:
    """Commands that live beside their domain (import, recompute, identity secrets)."""
    from pavior.imports.cli import register as register_imports
    from pavior.segments.cli import register as register_segments
    from pavior.tracking.cli import register as register_tracking
    from pavior.workspaces.cli import register as register_workspaces

    register_workspaces(main)
    register_imports(main)
    register_segments(main)
    register_tracking(main)


_register_package_commands()

if __name__ == "__main__":
    main()
