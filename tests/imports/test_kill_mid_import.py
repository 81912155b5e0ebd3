"""kill -9 in the middle of the merge leaves every user exactly as before."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_database import own_database, query

PAVIOR = [sys.executable, "-m", "pavior.cli"]
ROWS = 150_000


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The CLI's environment: its own data dir and, on PostgreSQL, its own
    database (named after this run's, so parallel runs do not share it),
    dropped afterwards whatever happened."""
    env = dict(os.environ, PAVIOR_DATA_DIR=str(tmp_path / "data"))
    with own_database(env, "imports_kill") as own:
        yield own


def _query(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    return [tuple(map(str, r)) for r in query(env, sql)]


def _snapshot(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return _query(
        env,
        "SELECT external_id, email, name, phone, city, custom, updated_at "
        "FROM people_person ORDER BY external_id",
    )


def _attributes(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return _query(env, "SELECT name FROM people_attributedefinition ORDER BY name")


def test_kill_9_during_merge_changes_nobody(tmp_path: Path, env: dict[str, str]) -> None:
    run = lambda *a: subprocess.run([*PAVIOR, *a], env=env, check=True, capture_output=True)  # noqa: E731
    run("manage", "migrate", "-v0")
    app_id = json.loads(run("workspace", "create", "Kill", "--json").stdout)["app_id"]
    seed = tmp_path / "seed.csv"
    seed.write_text("id,email,city\n" + "".join(f"u{i},u{i}@x.io,Paris\n" for i in range(2000)))
    run("import", str(seed), "--workspace", app_id, "--json")
    before = _snapshot(env)
    assert len(before) == 2000
    assert _attributes(env) == []

    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("id,email,city,plan\n")
        for i in range(ROWS):
            f.write(f"u{i},u{i}@x.io,Berlin,pro\n")
    progress_files = Path(env["PAVIOR_DATA_DIR"], "imports")
    seeded = set(progress_files.glob("*.progress"))
    proc = subprocess.Popen(
        [*PAVIOR, "import", str(big), "--workspace", app_id, "--map", "plan=plan:string"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stages() -> set[str]:
        """The stage of the import under test (not the seed's)."""
        found = set()
        for p in set(progress_files.glob("*.progress")) - seeded:
            try:
                found.add(json.loads(p.read_text()).get("stage"))
            except ValueError:
                pass
        return found

    # Wait (polling, with a deadline) for the merge to start: its transaction
    # has then created the new attribute and is changing users.
    deadline = time.monotonic() + 300
    while "merging" not in stages() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # Freeze it at once, then make sure it was frozen before it committed.
    os.kill(proc.pid, signal.SIGSTOP)
    assert proc.poll() is None and stages() == {"merging"}, (
        f"the import was not caught merging ({stages()}, exit {proc.returncode})"
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _snapshot(env) == before
    # The attribute the killed import created in its transaction is gone with it.
    assert _attributes(env) == []
    after = run("import", str(seed), "--workspace", app_id, "--json")
    assert json.loads(after.stdout)["unchanged"] == 2000
