"""Background work for segments: building a custom attribute's index."""

from __future__ import annotations

from django_tasks import task


@task()
def build_attribute_index(workspace_id: int, name: str, attr_type: str) -> str:
    # Runs in the worker, outside any transaction, so PostgreSQL builds the
    # index CONCURRENTLY and writes to people carry on meanwhile.
    from pavior.segments.indexes import ensure_expression_index

    return ensure_expression_index(workspace_id, name, attr_type).name


@task()
def copy_attribute_values(definition_id: int) -> int:
    # The typed side table's backfill (pavior.people.indexed), in batches
    # outside any long transaction; progress goes to the log.
    from pavior.people.indexed import backfill, log_progress

    return backfill(definition_id, progress=log_progress(definition_id))
