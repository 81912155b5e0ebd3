"""Background tasks: an import runs in the worker (`pavior serve` starts one)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_import_task(import_id: int) -> str:
    from pavior.imports.actions import run_import

    return str(run_import(import_id).status)
