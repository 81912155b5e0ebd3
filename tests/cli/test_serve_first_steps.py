"""`pavior serve` prints first steps that can be pasted as they are: `pavior` when that
is this program on PATH, else the path that works (a venv that is not activated)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest


def first_steps(cwd: Any, command: str, path: str, data_dir: Any) -> list[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PAVIOR_DATA_DIR": str(data_dir), "PATH": path}
    env.pop("DATABASE_URL", None)  # its own fresh SQLite database
    proc = subprocess.Popen(
        [command, "serve", "--port", str(port), "--no-worker"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "user create-admin" in line or "Traceback" in line:
                break
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    return lines


@pytest.fixture
def venv(tmp_path: Any) -> Any:
    """A `pavior` script in a venv-like bin directory, as pip installs it."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "pavior"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom pavior.cli import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return tmp_path


def test_not_on_path_prints_the_path_that_works(venv: Any) -> None:
    lines = first_steps(venv, ".venv/bin/pavior", "/usr/bin:/bin", venv / "data")
    assert "  .venv/bin/pavior workspace create 'My business'" in "\n".join(lines), lines
    assert any(line.startswith("  .venv/bin/pavior user create-admin") for line in lines)
    # And it is what works: the printed command runs from the same directory,
    # on the same (SQLite) data dir as the server above.
    env = {**os.environ, "PAVIOR_DATA_DIR": str(venv / "data"), "PATH": "/usr/bin:/bin"}
    env.pop("DATABASE_URL", None)
    r = subprocess.run(
        [".venv/bin/pavior", "workspace", "list", "--json"],
        cwd=venv,
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_on_path_prints_pavior(venv: Any) -> None:
    path = f"{venv / '.venv' / 'bin'}:/usr/bin:/bin"
    lines = first_steps(venv, "pavior", path, venv / "data")
    assert any(line.startswith("  pavior workspace create") for line in lines), lines
