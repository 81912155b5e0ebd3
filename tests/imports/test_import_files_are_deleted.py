"""An uploaded file is deleted when its import ends (done, failed, cancelled);
only the rejected rows stay, for the download, and only for their retention."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from pavior.core.errors import InvalidValue
from pavior.imports import actions
from pavior.imports.models import Import


def files(imp: Any = None) -> set[str]:
    folder = Path(settings.DATA_DIR) / "imports"
    names = {p.name for p in folder.iterdir()} if folder.exists() else set()
    return {n for n in names if imp is None or n.startswith(imp.token)}


def upload(workspace: Any, data: bytes) -> Any:
    imp = actions.create_import(workspace, io.BytesIO(data), "people.csv", source="cli")
    actions.set_mapping(imp, {"seats": "seats:number"})
    return imp


def test_a_done_import_keeps_only_its_rejected_rows(workspace: Any) -> None:
    imp = upload(workspace, b"id,seats\nu1,3\nu2,many\n")
    assert files(imp) == {f"{imp.token}.csv"}
    done = actions.run_import(imp.pk)
    assert done.status == "done" and done.result["rejected"] == 1
    assert files(imp) == {f"{imp.token}-rejected.csv"}


def test_a_done_import_without_rejects_keeps_nothing(workspace: Any) -> None:
    imp = upload(workspace, b"id,seats\nu1,3\n")
    assert actions.run_import(imp.pk).status == "done"
    assert files(imp) == set()


def test_a_failed_import_keeps_nothing_and_cannot_be_restarted(workspace: Any) -> None:
    imp = upload(workspace, b'id,seats\nu1,"3\n' + b"x" * (5 * 1024 * 1024) + b"\n")
    failed = actions.run_import(imp.pk)
    assert failed.status == "failed", failed.error
    assert files(imp) == set()
    with pytest.raises(InvalidValue, match="upload it again"):
        actions.start_import(Import.objects.get(pk=imp.pk))


def test_a_cancelled_import_keeps_nothing(workspace: Any) -> None:
    waiting = upload(workspace, b"id,seats\nu1,3\n")
    actions.cancel_import(waiting)  # in the wizard, before it was started
    assert files(waiting) == set()
    queued = upload(workspace, b"id,seats\nu1,3\n")
    Import.objects.filter(pk=queued.pk).update(status="queued")
    actions.cancel_import(Import.objects.get(pk=queued.pk))
    assert actions.run_import(queued.pk).status == "cancelled"
    assert files(queued) == set()


def test_old_rejects_and_abandoned_uploads_are_swept(workspace: Any) -> None:
    kept = upload(workspace, b"id,seats\nu1,x\n")
    actions.run_import(kept.pk)
    abandoned = upload(workspace, b"id,seats\nu1,3\n")
    fresh = upload(workspace, b"id,seats\nu1,3\n")
    month_ago = time.time() - actions.REJECTS_KEPT_FOR.total_seconds() - 60
    week_ago = time.time() - actions.UNSTARTED_KEPT_FOR.total_seconds() - 60
    os.utime(actions.rejects_path(kept), (month_ago, month_ago))
    os.utime(actions.file_path(abandoned), (week_ago, week_ago))
    actions.sweep_old_files()
    assert files(kept) == set()
    assert files(abandoned) == set()
    assert Import.objects.get(pk=abandoned.pk).status == "cancelled"
    assert files(fresh) == {f"{fresh.token}.csv"}


def test_rejects_within_their_retention_are_kept(workspace: Any) -> None:
    imp = upload(workspace, b"id,seats\nu1,x\n")
    actions.run_import(imp.pk)
    almost = time.time() - (actions.REJECTS_KEPT_FOR - timedelta(hours=1)).total_seconds()
    os.utime(actions.rejects_path(imp), (almost, almost))
    actions.sweep_old_files()
    assert files(imp) == {f"{imp.token}-rejected.csv"}
