"""`pavior index`: custom-attribute indexes by hand (they also follow use on their own)."""

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
    def create(attribute: str, app_id: str) -> None:
        """Index ATTRIBUTE now (PostgreSQL builds it without blocking writes)."""
        setup_django()
        from pavior.segments.indexes import ensure_expression_index

        ws, attr = _workspace_and_attribute(app_id, attribute)
        result = ensure_expression_index(ws.pk, attr.name, attr.type)  # type: ignore[attr-defined]
        click.echo(f"{'Created' if result.created else 'Already there'}: {result.name}")

    @index.command("drop")
    @click.argument("attribute")
    @click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
    def drop(attribute: str, app_id: str) -> None:
        """Drop ATTRIBUTE's index."""
        setup_django()
        from pavior.segments.indexes import drop_expression_index

        ws, attr = _workspace_and_attribute(app_id, attribute)
        drop_expression_index(ws.pk, attr.name)  # type: ignore[attr-defined]
        click.echo(f"Dropped the index of {attribute}.")

    @index.command("list")
    @click.option("--workspace", "app_id", required=True, help="The workspace's app_id.")
    def list_(app_id: str) -> None:
        """List the custom-attribute indexes of a workspace."""
        setup_django()
        from pavior.segments.indexes import expression_indexes

        ws, _ = _workspace_and_attribute(app_id, None)
        for name in expression_indexes(ws.pk):  # type: ignore[attr-defined]
            click.echo(name)
