"""Running the real `pavior` command in a subprocess, against the test's database."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def cli_env(data_dir: Any) -> dict[str, str]:
    """The environment of a `pavior` subprocess that sees what this test sees.

    It points at the test database pytest-django made, on PostgreSQL or SQLite
    (the test must use transactional_db so each side sees the other's commits).
    """
    from django.db import connection

    env = {**os.environ, "PAVIOR_DATA_DIR": str(data_dir)}
    name = connection.settings_dict["NAME"]
    url = os.environ.get("DATABASE_URL")
    if url:
        env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path="/" + name))
    else:
        env["DATABASE_URL"] = f"sqlite:///{name}"
    return env


def pavior(args: list[str], env: dict[str, str], stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "pavior.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
