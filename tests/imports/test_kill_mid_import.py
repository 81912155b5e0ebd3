"""kill -9 in the middle of the merge leaves every user exactly as before."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PAVIOR = [sys.executable, "-m", "pavior.cli"]
ROWS = 150_000


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PAVIOR_DATA_DIR=str(tmp_path / "data"))
    env.pop("PAVIOR_TEST_SQLITE_NAME", None)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base, _, _name = url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS pavior_imports_kill")
            conn.execute("CREATE DATABASE pavior_imports_kill")
        env["DATABASE_URL"] = f"{base}/pavior_imports_kill"
    return env


def _snapshot(env: dict[str, str]) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT external_id, email, name, phone, city, custom, updated_at "
        "FROM people_person ORDER BY external_id"
    )
    if env.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return [tuple(map(str, r)) for r in conn.execute(sql).fetchall()]
    db = Path(env["PAVIOR_DATA_DIR"]) / "pavior.sqlite3"
    with sqlite3.connect(db) as conn:
        return [tuple(map(str, r)) for r in conn.execute(sql).fetchall()]


def test_kill_9_during_merge_changes_nobody(tmp_path: Path) -> None:
    env = _env(tmp_path)
    run = lambda *a: subprocess.run([*PAVIOR, *a], env=env, check=True, capture_output=True)  # noqa: E731
    run("manage", "migrate", "-v0")
    app_id = json.loads(run("workspace", "create", "Kill", "--json").stdout)["app_id"]
    seed = tmp_path / "seed.csv"
    seed.write_text("id,email,city\n" + "".join(f"u{i},u{i}@x.io,Paris\n" for i in range(2000)))
    run("import", str(seed), "--workspace", app_id, "--json")
    before = _snapshot(env)
    assert len(before) == 2000

    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("id,email,city,plan\n")
        for i in range(ROWS):
            f.write(f"u{i},u{i}@x.io,Berlin,pro\n")
    proc = subprocess.Popen(
        [*PAVIOR, "import", str(big), "--workspace", app_id, "--map", "plan=plan:string"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    progress_files = Path(env["PAVIOR_DATA_DIR"], "imports")
    deadline = time.monotonic() + 300
    merging = False
    while time.monotonic() < deadline and proc.poll() is None:
        for p in progress_files.glob("*.progress"):
            try:
                if json.loads(p.read_text()).get("stage") == "merging":
                    merging = True
            except ValueError:
                pass
        if merging:
            break
        time.sleep(0.02)
    assert merging and proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _snapshot(env) == before
    # The attribute the killed import would have created is not there either.
    after = run("import", str(seed), "--workspace", app_id, "--json")
    assert json.loads(after.stdout)["unchanged"] == 2000
