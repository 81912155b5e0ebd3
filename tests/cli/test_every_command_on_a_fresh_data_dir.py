"""Every `pavior` command that needs the database works on a brand-new data dir (it
migrates first, as `serve` does) or says in one line what is wrong: never a
traceback (SPEC §10)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.cli.conftest import pavior

# (arguments, exit status, what the output says)
COMMANDS = [
    (["workspace", "create", "Acme", "--json"], 0, '"app_id"'),
    (["workspace", "list"], 0, ""),
    (["user", "create-admin", "ann@example.com", "--password-stdin"], 0, "Created team member"),
    (["recompute"], 0, "Recomputed 0 user(s)"),
    (["import", "{csv}", "--workspace", "app_nope"], 2, "No workspace with app_id app_nope"),
    (["identity-secret", "create", "--workspace", "app_nope"], 2, "No workspace"),
    (["identity-secret", "list", "--workspace", "app_nope"], 2, "No workspace"),
    (["identity-secret", "revoke", "1", "--workspace", "app_nope"], 2, "No workspace"),
    (["index", "create", "plan", "--workspace", "app_nope"], 2, "No workspace"),
    (["index", "drop", "plan", "--workspace", "app_nope"], 2, "No workspace"),
    (["index", "list", "--workspace", "app_nope"], 2, "No workspace"),
    (["api-key", "create", "--workspace", "app_nope"], 2, "No workspace"),
    (["api-key", "list", "--workspace", "app_nope"], 2, "No workspace"),
    (["api-key", "revoke", "1", "--workspace", "app_nope"], 2, "No workspace"),
]


@pytest.fixture
def fresh_env(tmp_path: Any) -> Iterator[dict[str, str]]:
    """A data dir nothing ran in; on PostgreSQL also a database nothing ran in."""
    env = {**os.environ, "PAVIOR_DATA_DIR": str(tmp_path / "data")}
    url = os.environ.get("DATABASE_URL")
    if not url:
        env.pop("DATABASE_URL", None)
        yield env
        return
    import psycopg

    name = f"pavior_fresh_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + name))
    yield env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize(("args", "status", "says"), COMMANDS, ids=lambda v: str(v))
def test_command_on_a_fresh_data_dir(
    fresh_env: dict[str, str], tmp_path: Any, args: list[str], status: int, says: str
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("email\nann@example.com\n")
    args = [str(csv) if a == "{csv}" else a for a in args]
    r = pavior(args, fresh_env, stdin="correct horse battery\n")
    out = r.stdout + r.stderr
    assert "Traceback" not in out, out
    assert r.returncode == status, out
    assert says in out
    if status:
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_worker_on_a_fresh_data_dir(fresh_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pavior.cli", "worker"],
        env=fresh_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # The worker polls for tasks: still running after its first polls means
        # it found its tables.
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Traceback" not in out, out


def test_an_unreachable_database_is_one_line(tmp_path: Any) -> None:
    env = {
        **os.environ,
        "PAVIOR_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",
    }
    r = pavior(["workspace", "list"], env)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("Error: Cannot prepare the database")
    assert len(r.stderr.strip().splitlines()) == 1
