"""`pavior index`: custom-attribute indexes by hand (they also follow use on their own).

`create` copies the attribute's values into the typed side table
(people.IndexedValue: counts, breakdowns, histograms and time series read its
covering indexes; docs/benchmarks-reports.md); `--expression` builds the
expression index on the JSON column instead (what the automatic indexing does
on PostgreSQL; it speeds filters that read people anyway).
"""

from __future__ import annotations

import click


def _workspace_and_attribute(app_id: str, name: str | None) -> tuple[object, object]:
    from pavior.people.queries import get_attribute
    from pavior.workspaces.cli import fail, workspace_or_fail

    ws = workspace_or_fail(app_id)
    attr = None
    if name is not None:
        attr = get_attribute(ws, name)  # type: ignore[arg-type]
        if attr is None or attr.builtin:
            fail(f'No custom attribute named "{name}" (built-ins are indexed already)')
    return ws, attr


def register(group: click.Group) -> None:
    from pavior.workspaces.cli import setup_django

    @group.group()
    def index() -> None:
        """Database indexes on custom attributes (filters and sorts on them get faster)."""

    @index.command("create")
    @click.argument("attribute")
    @click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
    @click.option(
        "--expression",
        is_flag=True,
        help="Build the expression index on the JSON column instead of the typed copy.",
    )
    @click.option(
        "--background",
        is_flag=True,
        help="Queue the copy for the worker (progress in its log) instead of running it here.",
    )
    def create(attribute: str, app_id: str, expression: bool, background: bool) -> None:
        """Index ATTRIBUTE now: copy its values into the typed side table (writes go on)."""
        setup_django()
        from pavior.people.indexed import backfill, mark_indexed
        from pavior.segments.indexes import ensure_expression_index
        from pavior.segments.tasks import copy_attribute_values

        ws, attr = _workspace_and_attribute(app_id, attribute)
        if expression:
            result = ensure_expression_index(ws.pk, attr.name, attr.type)  # type: ignore[attr-defined]
            click.echo(f"{'Created' if result.created else 'Already there'}: {result.name}")
            return
        definition_id = mark_indexed(ws.pk, attr.name)  # type: ignore[attr-defined]
        if definition_id is None:
            click.echo(f"Already indexed: {attribute}")
            return
        if background:
            copy_attribute_values.enqueue(definition_id)
            click.echo(f"Queued the copy of {attribute}'s values; new writes are copied already.")
            return

        def progress(done: int, total: int) -> None:
            click.echo(f"\rCopied {done:,} of {total:,} users", nl=False)

        backfill(definition_id, progress=progress)
        click.echo(f"\nIndexed: {attribute}")

    @index.command("drop")
    @click.argument("attribute")
    @click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
    def drop(attribute: str, app_id: str) -> None:
        """Drop ATTRIBUTE's typed copy and expression index."""
        setup_django()
        from pavior.people.indexed import unmark_indexed
        from pavior.segments.indexes import drop_expression_index

        ws, attr = _workspace_and_attribute(app_id, attribute)
        unmark_indexed(ws.pk, attr.name)  # type: ignore[attr-defined]
        drop_expression_index(ws.pk, attr.name)  # type: ignore[attr-defined]
        click.echo(f"Dropped the index of {attribute}.")

    @index.command("list")
    @click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
    def list_(app_id: str) -> None:
        """List the custom-attribute indexes of a workspace."""
        setup_django()
        from pavior.people.models import AttributeDefinition
        from pavior.segments.indexes import expression_indexes

        ws, _ = _workspace_and_attribute(app_id, None)
        typed = AttributeDefinition.objects.filter(workspace_id=ws.pk).exclude(index_state="")  # type: ignore[attr-defined]
        for name, state in typed.order_by("name").values_list("name", "index_state"):
            click.echo(f"{name} (typed copy, {state})")
        for name in expression_indexes(ws.pk):  # type: ignore[attr-defined]
            click.echo(name)
