"""Helpers for import tests: write a file, run the whole import on it."""

from __future__ import annotations

import io
from typing import Any

import pytest


def run_import_bytes(
    workspace: Any,
    data: bytes,
    mapping: dict[str, Any] | None = None,
    *,
    mode: str = "upsert",
    empty_clears: bool = False,
    day_first: bool | None = None,
    delimiter: str | None = None,
) -> Any:
    from pavior.imports import actions

    imp = actions.create_import(
        workspace, io.BytesIO(data), "people.csv", source="cli", delimiter=delimiter
    )
    actions.set_mapping(
        imp, mapping or {}, mode=mode, empty_clears=empty_clears, day_first=day_first
    )
    imp.status = "uploaded"
    return actions.run_import(imp.pk)


@pytest.fixture
def run_csv(workspace: Any) -> Any:
    def run(data: bytes | str, mapping: dict[str, Any] | None = None, **kw: Any) -> Any:
        raw = data.encode() if isinstance(data, str) else data
        return run_import_bytes(workspace, raw, mapping, **kw)

    return run


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Run enqueued tasks at once (the worker's job in production)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


# A signed-in browser on the served application, for the import pages.
from tests.web.conftest import signed_in, team  # noqa: E402, F401
