"""A real `pavior serve` with the folder on (PAVIOR_FOLD_IN_WORKER: its worker
folds) on a database of its own, for the tests that kill it or time it; and
the processes around it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.cli_database import own_database, query

PAVIOR = [sys.executable, "-m", "pavior.cli"]


@dataclass
class Serve:
    url: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    app_id: str

    def pending(self) -> int:
        return query(self.env, "SELECT COUNT(*) FROM tracking_pendingevent")[0][0]

    def stored(self) -> int:
        return query(self.env, "SELECT COUNT(*) FROM tracking_rawevent")[0][0]

    def worker_pid(self) -> int | None:
        """The worker `pavior serve` started: its child running `pavior.cli worker`."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue  # gone meanwhile
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"worker" in cmdline and b"pavior.cli" in cmdline:
                return int(entry.name)
        return None


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it does not end in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PAVIOR_DATA_DIR=str(tmp_path / "data"), PAVIOR_RATE_LIMITS="false")
    # Web processes as `serve` chooses them, and the folder on.
    env.pop("REDIS_URL", None)
    env["PAVIOR_FOLD_IN_WORKER"] = "true"
    return env


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*PAVIOR, *args], env=env, check=True, capture_output=True)
    return done.stdout.decode()


@contextmanager
def real_serve(tmp_path: Path, suffix: str) -> Iterator[Serve]:
    """`pavior serve` on a free port with a new workspace; killed afterwards."""
    with own_database(cli_env(tmp_path), suffix) as env:
        run(env, "manage", "migrate", "-v0")
        app_id = json.loads(run(env, "workspace", "create", "Fold", "--json"))["app_id"]
        port = free_port()
        proc = subprocess.Popen(
            [*PAVIOR, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        serve = Serve(f"http://127.0.0.1:{port}", proc, env, app_id)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{serve.url}/api/v1/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    assert proc.poll() is None, "pavior serve did not start"
                    assert time.monotonic() < deadline, "pavior serve did not answer"
                    time.sleep(0.1)
            yield serve
        finally:
            stop(proc)  # its worker follows it (it is SIGTERMed when `serve` ends)
