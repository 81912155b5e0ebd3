"""SQLite: while an import reads and stages its file, other writers are not blocked."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

PAVIOR = [sys.executable, "-m", "pavior.cli"]
# How long after taking the write lock the merge may take to write its stage
# file (it creates the new attribute first): far less than reading the file.
MERGE_SHOWS_WITHIN = 2.0

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL writers never wait for an import (MVCC, row locks only)",
)


def test_writes_succeed_during_the_reading_stage(tmp_path: Path) -> None:
    env = dict(os.environ, PAVIOR_DATA_DIR=str(tmp_path / "data"))
    env.pop("PAVIOR_TEST_SQLITE_NAME", None)
    env.pop("DATABASE_URL", None)
    run = lambda *a: subprocess.run([*PAVIOR, *a], env=env, check=True, capture_output=True)  # noqa: E731
    run("manage", "migrate", "-v0")
    app_id = json.loads(run("workspace", "create", "Busy", "--json").stdout)["app_id"]
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("id,email,city,plan\n")
        for i in range(200_000):
            f.write(f"u{i},u{i}@x.io,Berlin,pro\n")
    proc = subprocess.Popen(
        [*PAVIOR, "import", str(big), "--workspace", app_id, "--map", "plan=plan:string", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    db = sqlite3.connect(tmp_path / "data" / "pavior.sqlite3", timeout=0.5, isolation_level=None)
    progress = tmp_path / "data" / "imports"
    writes = 0
    deadline = time.monotonic() + 300

    def stages() -> list[str]:
        found = []
        for p in progress.glob("*.progress"):
            try:
                found.append(json.loads(p.read_text()).get("stage"))
            except ValueError:
                pass
        return found

    while time.monotonic() < deadline and proc.poll() is None:
        now = stages()
        if "reading" in now:
            # What any other writer does: take the write lock, write, commit.
            try:
                db.execute("BEGIN IMMEDIATE")  # "database is locked" if held > 0.5 s
            except sqlite3.OperationalError:
                # Allowed only if the import has meanwhile moved on to its merge,
                # which does hold the lock: the stage file says so right after
                # the merge takes it, so wait for that (not for a fixed time);
                # an import that held the lock while reading would stay there.
                until = time.monotonic() + MERGE_SHOWS_WITHIN
                while "merging" not in stages() and proc.poll() is None:
                    assert time.monotonic() < until, "a writer was blocked while the file was read"
                    time.sleep(0.01)
                break
            db.execute("PRAGMA user_version = 1")
            db.execute("COMMIT")
            writes += 1
        elif "merging" in now:
            break
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=300)
    assert writes >= 3, "the import finished its reading stage before the test could write"
    assert json.loads(out)["created"] == 200_000
