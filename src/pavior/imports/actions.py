"""Import jobs: upload, map, validate (nothing written), run (one transaction)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from pavior.core.attributes import AttributeDef
from pavior.core.csv_rules import infer_column_type, propose_attribute_name
from pavior.core.errors import InvalidValue, NotFound, PaviorError
from pavior.core.peer_columns import header_key, match_column
from pavior.imports import mapping as mapping_rules
from pavior.imports import parallel
from pavior.imports.merge import Stage
from pavior.imports.models import Import, Mode, Status
from pavior.imports.pipeline import Cancelled, Options, Report, layout_for, run_pass
from pavior.imports.reading import CsvFile, iter_rows, sniff
from pavior.people.actions import create_attribute
from pavior.people.queries import all_attributes
from pavior.workspaces.models import Workspace

SAMPLE_ROWS = 200
log = logging.getLogger("pavior.imports")


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(imp: Import, suffix: str = ".csv") -> Path:
    return imports_dir() / f"{imp.token}{suffix}"


def rejects_path(imp: Import) -> Path:
    return file_path(imp, "-rejected.csv")


# --- files and their retention (docs/import.md, "Files kept and for how long") -----

# The rejected-rows file is what a person downloads to fix and re-upload; a
# month covers "I'll fix it next week" without keeping people's data forever.
REJECTS_KEPT_FOR = timedelta(days=30)
# An upload mapped in the wizard but never started: abandoned after a week.
UNSTARTED_KEPT_FOR = timedelta(days=7)
_WORKING_FILES = (".csv", ".progress", ".progress.tmp", ".cancel")


def end_files(imp: Import, *, rejected_rows: int = 0) -> None:
    """The import has ended (done, failed or cancelled): delete the upload and
    the working files beside it; keep only the rejected rows, when there are
    some, for the download (until REJECTS_KEPT_FOR has passed)."""
    for suffix in _WORKING_FILES:
        file_path(imp, suffix).unlink(missing_ok=True)
    if not rejected_rows:
        rejects_path(imp).unlink(missing_ok=True)
    sweep_old_files()


def sweep_old_files(now: datetime | None = None) -> None:
    """Delete rejected-rows files past their retention, and uploads never started
    within UNSTARTED_KEPT_FOR (their import is then cancelled). Runs whenever
    an import is created or ends: the directory holds only files within their
    retention, so the scan stays small."""
    now = now or timezone.now()
    folder = imports_dir()
    for path in folder.glob("*-rejected.csv"):
        if _older_than(path, now - REJECTS_KEPT_FOR):
            path.unlink(missing_ok=True)
    stale = {
        p.name.removesuffix(".csv"): p
        for p in folder.glob("*.csv")
        if not p.name.endswith("-rejected.csv") and _older_than(p, now - UNSTARTED_KEPT_FOR)
    }
    if not stale:
        return
    # Only uploads of imports that are not queued or running (or that no
    # import row owns any more) are abandoned.
    busy = set(
        Import.objects.filter(
            token__in=list(stale), status__in=(Status.QUEUED, Status.RUNNING)
        ).values_list("token", flat=True)
    )
    for token, path in stale.items():
        if token not in busy:
            path.unlink(missing_ok=True)
    Import.objects.filter(token__in=list(stale), status=Status.UPLOADED).update(
        status=Status.CANCELLED,
        error=f"The upload was not imported within {UNSTARTED_KEPT_FOR.days} days and was deleted",
        finished_at=now,
    )


def _older_than(path: Path, cutoff: datetime) -> bool:
    try:
        return path.stat().st_mtime < cutoff.timestamp()
    except OSError:  # deleted meanwhile
        return False


# --- progress and cancel: files, readable while the import's transaction runs ------


def write_progress(imp: Import, data: dict[str, Any]) -> None:
    path = file_path(imp, ".progress")
    tmp = path.with_suffix(".progress.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)  # readers never see half a file


def read_progress(imp: Import) -> dict[str, Any]:
    try:
        return json.loads(file_path(imp, ".progress").read_text())
    except (OSError, ValueError):
        return {}


def cancel_import(imp: Import) -> None:
    if imp.status in (Status.QUEUED, Status.RUNNING, Status.UPLOADED):
        file_path(imp, ".cancel").touch()
        if imp.status != Status.RUNNING:
            Import.objects.filter(pk=imp.pk).update(status=Status.CANCELLED)
        # Not yet handed to the worker: it ends here, so do its files. (A
        # queued or running import ends in run_import, which deletes them.)
        if imp.status == Status.UPLOADED:
            end_files(imp)


# --- upload -----------------------------------------------------------------------


def create_import(
    workspace: Workspace,
    upload: IO[bytes],
    filename: str,
    *,
    source: str = "web",
    user: Any = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Import:
    """Keep the uploaded file and read its header; a broken file is a 4xx."""
    imp = Import(workspace=workspace, source=source, filename=filename[:255], created_by=user)
    path = file_path(imp)
    with open(path, "wb") as out:
        shutil.copyfileobj(upload, out, 1024 * 1024)
    try:
        src = sniff(path, encoding=encoding, delimiter=delimiter)
    except PaviorError:
        path.unlink(missing_ok=True)
        raise
    imp.size = path.stat().st_size
    imp.encoding, imp.delimiter, imp.header = src.encoding, src.delimiter, src.header
    imp.save()
    sweep_old_files()
    return imp


def source_of(imp: Import) -> CsvFile:
    return CsvFile(file_path(imp), imp.encoding, imp.delimiter, list(imp.header))


def set_format(imp: Import, *, delimiter: str | None, encoding: str | None) -> Import:
    src = sniff(file_path(imp), encoding=encoding or None, delimiter=delimiter or None)
    imp.encoding, imp.delimiter, imp.header = src.encoding, src.delimiter, src.header
    imp.mapping, imp.validation = {}, None
    imp.save()
    return imp


# --- mapping ----------------------------------------------------------------------


def column_samples(imp: Import, limit: int = SAMPLE_ROWS) -> list[list[str]]:
    """Up to ``limit`` values per column from the top of the file."""
    src = source_of(imp)
    cols: list[list[str]] = [[] for _ in src.header]
    for n, (_line, cells) in enumerate(iter_rows(src)):
        if n >= limit:
            break
        for i, cell in enumerate(cells[: len(cols)]):
            if cell.strip():
                cols[i].append(cell)
    return cols


def propose_mapping(imp: Import) -> list[dict[str, Any]]:
    """Per column: the attribute its header names (ours, or a peer's export
    column), else a new attribute whose name comes from the header and type
    from the values; each with the reason shown beside it."""
    attrs = all_attributes(imp.workspace)
    samples = column_samples(imp)
    used: set[str] = set()
    taken = {a.name for a in attrs}
    out = []
    for i, header in enumerate(imp.header):
        found = match_column(header, attrs)
        values = samples[i] if i < len(samples) else []
        row = {"index": i, "header": header, "samples": values[:3], "invert": False}
        if found is not None and not found.new and found.attribute not in used:
            used.add(found.attribute)
            attr = next(a for a in attrs if a.name == found.attribute)
            row.update(
                attribute=attr.name,
                type=attr.type.value,
                new=False,
                invert=found.invert,
                reason=f"Mapped automatically because {found.reason}.",
            )
            out.append(row)
            continue
        name = found.attribute if found is not None and found.new else ""
        name = name or propose_attribute_name(header)
        base, n = name, 2
        while name in taken or name in used:
            name = f"{base}_{n}"[:64]
            n += 1
        used.add(name)
        if found is not None and found.new:
            reason = f"Proposed as a new attribute because {found.reason}."
        elif found is not None:
            reason = f"Another column already goes to {found.attribute}: proposed as a new one."
        else:
            reason = "No attribute has this name: proposed as a new one."
        typed = found.type if found is not None and found.new else None
        row.update(
            attribute=name,
            type=(typed or infer_column_type(name, values)).value,
            new=True,
            reason=reason,
        )
        out.append(row)
    return out


def skipped_reasons(imp: Import, headers: list[str]) -> dict[str, str]:
    """Why each of these columns was left out, and how to bring it in."""
    attrs = all_attributes(imp.workspace)
    out = {}
    for header in headers:
        found = match_column(header, attrs)
        key = header_key(header)
        named = next(
            (a for a in attrs if key in (header_key(a.name), header_key(a.rendered_name))), None
        )
        if found is not None and found.new:
            out[header] = f"{found.reason}; to import it, --map '{header}={found.attribute}:TYPE'"
        elif found is None and named is not None:
            out[header] = (
                f"{named.rendered_name} is set by Pavior itself; an import cannot write it"
            )
        elif found is not None:
            out[header] = f"another column already goes to {found.attribute}"
        else:
            out[header] = "no attribute has this name; use --map to import it"
    return out


def set_mapping(
    imp: Import,
    specs: dict[str, Any],
    *,
    mode: str = Mode.UPSERT,
    empty_clears: bool = False,
    day_first: bool | None = None,
    auto: bool = True,
) -> list[mapping_rules.Column]:
    if mode not in Mode.values:
        raise InvalidValue("mode is create, update or upsert", field="mode")
    columns = mapping_rules.resolve(imp.header, specs, all_attributes(imp.workspace), auto=auto)
    imp.mapping = mapping_rules.to_json(columns)
    imp.mode, imp.empty_clears, imp.day_first = mode, empty_clears, day_first
    imp.validation = None
    imp.save()
    return columns


def _columns(imp: Import) -> list[mapping_rules.Column]:
    return mapping_rules.from_json(imp.header, imp.mapping, all_attributes(imp.workspace))


def _options(imp: Import) -> Options:
    return Options(
        empty_clears=imp.empty_clears,
        day_first=imp.day_first,
        max_string_length=settings.PAVIOR_MAX_STRING_LENGTH,
    )


# --- validation (the wizard's dry run) ------------------------------------------


def validate_import(imp: Import) -> Report:
    """Read the whole file with the mapping; count bad values; write nothing."""
    report = run_pass(source_of(imp), _columns(imp), _options(imp))
    imp.validation = report.as_json()
    imp.save(update_fields=["validation"])
    return report


# --- running ----------------------------------------------------------------------


def start_import(imp: Import) -> Import:
    from pavior.imports.tasks import run_import_task

    if imp.status not in (Status.UPLOADED, Status.FAILED):
        raise InvalidValue(f"This import is already {imp.status}", field="status")
    if not file_path(imp).exists():
        raise InvalidValue(
            "The uploaded file was deleted when this import ended; upload it again",
            field="file",
        )
    _columns(imp)  # refuse a mapping that no longer holds before queueing
    imp.status = Status.QUEUED
    imp.save(update_fields=["status"])
    write_progress(imp, {"stage": "queued", "bytes": 0, "total": imp.size, "rows": 0})
    transaction.on_commit(lambda: _enqueue(run_import_task, imp.pk))
    return imp


def _enqueue(task: Any, import_id: int) -> None:
    result = task.enqueue(import_id)
    # The immediate backend (tests) swallows exceptions; surface them.
    if getattr(result, "errors", None) and str(result.status) == "FAILED":
        raise RuntimeError(result.errors[0].traceback)


def run_import(import_id: int) -> Import:
    """The import itself: every change to people in one transaction."""
    imp = Import.objects.select_related("workspace").filter(pk=import_id).first()
    if imp is None:
        raise NotFound(f"No import {import_id}")
    if imp.status == Status.CANCELLED or file_path(imp, ".cancel").exists():
        Import.objects.filter(pk=imp.pk).update(status=Status.CANCELLED)
        imp.status = Status.CANCELLED
        end_files(imp)
        return imp
    Import.objects.filter(pk=imp.pk).update(status=Status.RUNNING)
    total = imp.size or 1
    state = {"rows": 0}

    def progress(done: int, rows: int) -> None:
        state["rows"] = rows
        write_progress(imp, {"stage": "reading", "bytes": done, "total": total, "rows": rows})

    def step(name: str) -> None:
        write_progress(
            imp,
            {
                "stage": "merging",
                "step": name,
                "bytes": total,
                "total": total,
                "rows": state["rows"],
            },
        )
        if file_path(imp, ".cancel").exists():
            raise Cancelled

    try:
        result = _run_in_transaction(imp, progress, step)
    except Cancelled:
        imp.status, imp.finished_at = Status.CANCELLED, timezone.now()
        imp.save(update_fields=["status", "finished_at"])
        end_files(imp)
        return imp
    except PaviorError as e:
        imp.status, imp.error, imp.finished_at = Status.FAILED, e.message, timezone.now()
        imp.save(update_fields=["status", "error", "finished_at"])
        end_files(imp)
        return imp
    except Exception as e:
        # Never leave an import "running" forever; nothing was written (rolled back).
        imp.status, imp.finished_at = Status.FAILED, timezone.now()
        imp.error = f"The import failed unexpectedly ({type(e).__name__}); no user was changed"
        imp.save(update_fields=["status", "error", "finished_at"])
        end_files(imp)
        raise
    imp.status, imp.result, imp.finished_at = Status.DONE, result, timezone.now()
    imp.error = ""
    imp.save(update_fields=["status", "result", "finished_at", "error"])
    end_files(imp, rejected_rows=result["rejected"])
    return imp


def _run_in_transaction(imp: Import, progress: Any, step: Any) -> dict[str, Any]:
    cancel_file = file_path(imp, ".cancel")
    on_disk = connection.vendor == "sqlite" and not connection.in_atomic_block
    if on_disk:
        # SQLite materialises UPDATE ... FROM and sorts in its temp store; on
        # disk it stays bounded (the settings keep it in memory for speed).
        with connection.cursor() as cur:
            cur.execute("PRAGMA temp_store=FILE")
    try:
        return _merge_all(imp, cancel_file, progress, step)
    finally:
        if on_disk:
            with connection.cursor() as cur:
                cur.execute("PRAGMA temp_store=MEMORY")


def _merge_all(imp: Import, cancel_file: Path, progress: Any, step: Any) -> dict[str, Any]:
    columns = _columns(imp)
    options = _options(imp)
    stage = Stage(layout_for(columns, options.empty_clears), imp.token)

    def read() -> Report:
        if parallel.worth_it(imp.size):
            return parallel.run_pass_parallel(
                source_of(imp),
                columns,
                options,
                stage=stage.load,
                rejects_path=rejects_path(imp),
                on_progress=progress,
                should_stop=cancel_file.exists,
                copy=stage.load_copy if stage.pg else None,
                keys=stage.keys,
            )
        with open(rejects_path(imp), "w", newline="", encoding="utf-8") as rejects:
            return run_pass(
                source_of(imp),
                columns,
                options,
                stage=stage.load,
                rejects=rejects,
                on_progress=progress,
                should_stop=cancel_file.exists,
            )

    def apply() -> dict[str, Any]:
        for col in columns:
            if col.new:
                create_attribute(imp.workspace, col.attr.name, col.attr.type.value)
        step("merging")
        merged = stage.merge(imp.workspace_id, imp.mode, timezone.now(), step)
        step("committing")
        return merged

    started = time.perf_counter()
    if stage.pg:
        with transaction.atomic():
            stage.create()
            report = read()
            read_secs = time.perf_counter() - started
            merged = apply()
            committing = time.perf_counter()
        stage.timings["commit"] = round(time.perf_counter() - committing, 2)
    else:
        # The staging table is in SQLite's temp database and is filled in a
        # DEFERRED transaction that touches only the temp database (Django's
        # transactions are BEGIN IMMEDIATE, which would take the main
        # database's write lock): reading and staging the file leaves other
        # writers alone (the tracking intake keeps going); only the merge
        # holds the write lock, in one transaction.
        stage.create()
        try:
            with stage.filling():
                report = read()
            read_secs = time.perf_counter() - started
            with transaction.atomic():
                merged = apply()
                committing = time.perf_counter()
            stage.timings["commit"] = round(time.perf_counter() - committing, 2)
        finally:
            stage.drop()
    # Where the time went (PAVIOR_LOG_LEVEL=DEBUG; the benchmark prints it).
    log.debug(
        "import %s stages: %s",
        imp.pk,
        json.dumps(
            {"read": round(read_secs, 2), **stage.timings, "rebuilt": merged["rebuilt_indexes"]}
        ),
    )
    dup_lines = stage.duplicate_lines if merged["duplicates"] else []
    return {
        "rows": report.rows,
        "created": merged["created"],
        "updated": merged["updated"],
        "unchanged": merged["unchanged"],
        "skipped": merged["skipped"],
        "rejected": report.rejected,
        "duplicates": merged["duplicates"],
        # PostgreSQL: people's indexes were rebuilt after the load (the import
        # wrote most of the table; it held people exclusively until the end).
        "rebuilt_indexes": merged["rebuilt_indexes"],
        # Rows whose email_subscription=true was not applied (the user had unsubscribed).
        "subscription_kept": merged["subscription_kept"],
        "duplicate_lines": dup_lines,
        "padded": report.padded,
        "columns": [c.as_json() for c in report.columns],
        "rejected_samples": report.rejected_samples,
        "new_attributes": [c.attr.name for c in columns if c.new],
    }


def attribute_choices(workspace: Workspace) -> list[AttributeDef]:
    """Attributes a column may be mapped to (what an import may write)."""
    attrs = all_attributes(workspace, include_archived=False)
    by_name = {a.name: a for a in attrs}
    return [a for a in attrs if mapping_rules._importable(a, by_name)]
