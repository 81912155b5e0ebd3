"""Background work for segments: building a custom attribute's index."""

from __future__ import annotations

from django_tasks import task


@task()
def build_attribute_index(workspace_id: int, name: str, attr_type: str) -> str:
    # Runs in the worker, outside any transaction, so PostgreSQL builds the
    # index CONCURRENTLY and writes to people carry on meanwhile.
    from pavior.segments.indexes import ensure_expression_index

    return ensure_expression_index(workspace_id, name, attr_type).name
