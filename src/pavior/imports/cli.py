"""`pavior import FILE --workspace APP_ID [--map COL=ATTR[:TYPE] ...] [--mode ...] [--json]`."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import click


def register(group: click.Group) -> None:
    """Add this package's commands to the `pavior` group."""
    group.add_command(import_command)


def _parse_maps(maps: tuple[str, ...]) -> dict[str, str]:
    specs: dict[str, str] = {}
    for item in maps:
        column, sep, target = item.partition("=")
        if not sep or not column.strip():
            raise click.BadParameter(f"{item!r}: use COLUMN=ATTRIBUTE[:TYPE]", param_hint="--map")
        specs[column.strip()] = target.strip()
    return specs


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
@click.option("--map", "maps", multiple=True, help="COLUMN=ATTRIBUTE[:TYPE]; :TYPE creates it.")
@click.option("--mode", type=click.Choice(["create", "update", "upsert"]), default="upsert")
@click.option(
    "--empty",
    type=click.Choice(["keep", "clear"]),
    default="keep",
    help="What an empty cell means: leave the value unchanged, or clear it.",
)
@click.option(
    "--day-first/--month-first",
    "day_first",
    default=None,
    help="Order of day and month in dates like 03/04/2024.",
)
@click.option(
    "--delimiter",
    type=click.Choice([",", ";", "tab", "|"]),
    default=None,
    help="Override the detected delimiter.",
)
@click.option("--encoding", default=None, help="Override the detected encoding.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary.")
def import_command(
    file: Path,
    app_id: str,
    maps: tuple[str, ...],
    mode: str,
    empty: str,
    day_first: bool | None,
    delimiter: str | None,
    encoding: str | None,
    as_json: bool,
) -> None:
    """Import users from a CSV FILE (validated, then applied in one transaction)."""
    from pavior.workspaces.cli import fail, setup_django, workspace_or_fail

    setup_django()
    from pavior.core.errors import PaviorError
    from pavior.imports import actions

    workspace = workspace_or_fail(app_id)
    try:
        specs = _parse_maps(maps)
        with open(file, "rb") as f:
            imp = actions.create_import(
                workspace,
                f,
                file.name,
                source="cli",
                encoding=encoding,
                delimiter="\t" if delimiter == "tab" else delimiter,
            )
        columns = actions.set_mapping(
            imp, specs, mode=mode, empty_clears=empty == "clear", day_first=day_first
        )
    except PaviorError as e:
        fail(e.message)
        return
    mapped = {c.index for c in columns}
    unmapped = [h for i, h in enumerate(imp.header) if i not in mapped]
    reasons = {c.header: c.reason for c in columns}
    reasons.update(actions.skipped_reasons(imp, unmapped))
    if not as_json:
        for c in columns:
            note = f" (new {c.attr.type.value} attribute)" if c.new else ""
            note += " (inverted)" if c.invert else ""
            click.echo(f"  {c.header} -> {c.attr.name}{note}: {c.reason}", err=True)
        for h in unmapped:
            click.echo(f"  {h} -> skipped: {reasons[h]}", err=True)
    done = threading.Event()
    watcher = None
    if not as_json and sys.stderr.isatty():
        watcher = threading.Thread(target=_show_progress, args=(imp, done), daemon=True)
        watcher.start()
    elif not as_json:
        click.echo(f"Importing {file.name} ({imp.size:,} bytes)...", err=True)
    result = actions.run_import(imp.pk)
    done.set()
    if watcher is not None:
        watcher.join()
    summary: dict[str, Any] = {
        "import_id": result.pk,
        "status": str(result.status),
        "file": file.name,
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "mapping": {c.header: c.attr.name for c in columns},
        "inverted": [c.header for c in columns if c.invert],
        "unmapped": unmapped,
        "reasons": reasons,
        "error": result.error or None,
        # Kept only when some rows were rejected (see docs/import.md for how long).
        "rejected_file": (
            str(actions.rejects_path(result))
            if result.result and result.result.get("rejected")
            else None
        ),
        **(result.result or {}),
    }
    summary.pop("columns", None)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        _print_summary(summary)
    if result.status != "done":
        sys.exit(1)


def _show_progress(imp: Any, done: threading.Event) -> None:
    from pavior.imports.actions import read_progress

    total = max(imp.size, 1)
    with click.progressbar(length=total, label="Importing", file=sys.stderr) as bar:
        shown = 0
        while not done.wait(0.2):
            p = read_progress(imp)
            pos = min(int(p.get("bytes", 0)), total)
            if pos > shown:
                bar.update(pos - shown)
                shown = pos
            if p.get("stage") == "merging":
                bar.label = f"Merging ({p.get('step', '')})"
        bar.update(total - shown)


def _print_summary(s: dict[str, Any]) -> None:
    if s["status"] != "done":
        click.echo(f"Import {s['status']}: {s['error'] or ''}", err=True)
        return
    click.echo(
        f"{s['rows']:,} rows: {s['created']:,} created, {s['updated']:,} updated, "
        f"{s['unchanged']:,} unchanged, {s['skipped']:,} skipped, {s['rejected']:,} rejected"
        + (f", {s['duplicates']:,} duplicates (last row won)" if s["duplicates"] else "")
    )
    if s.get("subscription_kept"):
        click.echo(
            f"  {s['subscription_kept']:,} rows asked to resubscribe users who had "
            "unsubscribed; they stay unsubscribed"
        )
    for r in s.get("rejected_samples", [])[:5]:
        click.echo(f"  line {r['line']}: {r['reason']}")
    if s["rejected"]:
        click.echo(f"Rejected rows with a reason column: {s['rejected_file']}")
