"""Reading and checking the file in a second process while this one loads it.

The per-cell Python work (csv parsing, coercion, building staging rows) and
the loading into the staging table (executemany / COPY) each take seconds
per million rows; in one process they add up, in two they overlap. The
child runs the very same ``run_pass`` as the one-process path, so every
rule, count and rejected row is the same; it sends each chunk of staged rows
(pickled) through a pipe, and its report at the end. The pipe is the bounded
queue: the child blocks when this process has not read what it wrote, so
memory stays bounded whatever the file size.

The child is a fresh ``python -m pavior.imports.parallel``: it imports no
Django, never touches the database and shares no connection or thread with
this process (multiprocessing's spawn would re-run the caller's main
script). It dies with this process (PR_SET_PDEATHSIG, and a broken pipe), so
a ``kill -9`` of the import leaves no orphan behind.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pavior.core.errors import PaviorError
from pavior.imports.mapping import Column
from pavior.imports.pipeline import Cancelled, Options, Report, StagedRow, layout_for, run_pass
from pavior.imports.reading import CsvFile, ImportFileError
from pavior.imports.staging import Keys, copy_text, email_position

# Below this the second process costs more to start than it saves.
MIN_BYTES = 1_000_000


def worth_it(size: int) -> bool:
    return size >= MIN_BYTES and (os.cpu_count() or 1) > 1


def run_pass_parallel(
    src: CsvFile,
    columns: list[Column],
    options: Options,
    *,
    stage: Callable[[list[StagedRow]], None],
    rejects_path: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    copy: Callable[[bytes, int], None] | None = None,
    keys: Keys | None = None,
) -> Report:
    """``run_pass`` with the reading in a child process; same result.

    With ``copy`` (PostgreSQL), the child also notes the rows' keys (into
    ``keys`` at the end) and sends each chunk as COPY text, which ``copy``
    passes on as it is: this process no longer unpickles and formats every
    row (it shared two cores with the reader and the server)."""
    as_copy = copy is not None and keys is not None
    child = subprocess.Popen(  # noqa: S603 - our own module, with this interpreter
        [sys.executable, "-m", "pavior.imports.parallel"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        pickle.dump((os.getpid(), src, columns, options, rejects_path, as_copy), child.stdin)
        child.stdin.close()
        while True:
            try:
                msg = pickle.load(child.stdout)  # noqa: S301 - our own child, over a pipe
            except EOFError:
                code = child.wait()
                raise RuntimeError(f"the file reader stopped unexpectedly (exit {code})") from None
            kind = msg[0]
            if kind == "rows":
                stage(msg[1])
            elif kind == "copy":
                assert copy is not None
                copy(msg[1], msg[2])
            elif kind == "progress":
                if on_progress is not None:
                    on_progress(msg[1], msg[2])
                if should_stop is not None and should_stop():
                    raise Cancelled
            elif kind == "done":
                report: Report = msg[1]
                if as_copy:
                    assert keys is not None
                    keys.take(msg[2], msg[3])
                return report
            elif kind == "error":
                raise ImportFileError(msg[1], field=msg[2])
            else:
                raise RuntimeError(f"the file reader failed: {msg[1]}")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


def _child() -> None:
    # The protocol owns the real stdout; anything printed goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    parent, src, columns, options, rejects_path, as_copy = pickle.load(sys.stdin.buffer)  # noqa: S301
    _die_with_parent(parent)
    keys = Keys(email_position(layout_for(columns, options.empty_clears)))

    def put(msg: tuple[Any, ...]) -> None:
        try:
            pickle.dump(msg, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
        except BrokenPipeError:
            os._exit(1)  # the import is gone

    def progress(done: int, rows: int) -> None:
        put(("progress", done, rows))

    def stage(rows: list[StagedRow]) -> None:
        if as_copy:
            keys.note(rows)
            put(("copy", copy_text(rows), len(rows)))
        else:
            put(("rows", rows))

    try:
        if rejects_path is None:
            report = run_pass(src, columns, options, stage=stage, on_progress=progress)
        else:
            with open(rejects_path, "w", newline="", encoding="utf-8") as rejects:
                report = run_pass(
                    src, columns, options, stage=stage, rejects=rejects, on_progress=progress
                )
    except PaviorError as e:
        put(("error", e.message, e.field))
        return
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the import
        put(("crash", f"{type(e).__name__}: {e}"))
        return
    put(("done", report, keys.maybe_duplicates, keys.duplicate_lines))
    out.close()


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


if __name__ == "__main__":
    _child()
