"""`pavior serve --workers 2` without Redis: both web processes share one cache
(pavior.sqlite_cache), so what one process records the other serves. A user's
live attributes, recorded by the process that took their page view, read the
same through the API whichever process answers; and a message going live on
one process is offered by both (the workspace's messages version is shared).

Which process answered is read from Linux's /proc: the one holding the server
end of the request's connection (each request on a connection of its own)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_serve import free_port
from tests.cli_database import own_database

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")

PAGE = "https://shop.example/pricing"
# Requests on new connections until both processes answered, at least this many.
AT_LEAST = 12
GIVE_UP_AFTER = 150


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, env: dict[str, str]) -> None:
        self.proc, self.port, self.env = proc, port, env
        self.key = ""

    def call(self, method: str, path: str, body: Any = None, *, bearer: bool = True) -> Any:
        """(status, JSON body, pid of the web process that answered), on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Content-Type": "application/json"}
            if bearer:
                headers["Authorization"] = f"Bearer {self.key}"
            data = None if body is None else json.dumps(body)
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            payload = json.loads(response.read() or b"null")
            # The connection is still open: its server end is in one process's fds.
            return response.status, payload, self.holder(conn.sock.getsockname()[1])
        finally:
            conn.close()

    def holder(self, client_port: int) -> int | None:
        inode = _server_socket_inode(self.port, client_port)
        for pid in _children(self.proc.pid):
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        return None


def _server_socket_inode(server_port: int, client_port: int) -> str | None:
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return fields[9]
    return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {**os.environ, "PAVIOR_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)  # the SQLite cache: what this test is about
    # Derived values at once, in the web process that stored the batch.
    env.pop("PAVIOR_FOLD_IN_WORKER", None)  # the default: derived values at once
    with own_database(env, "serve_cache") as env:
        made = subprocess.run(
            [sys.executable, "-m", "pavior.cli", "workspace", "create", "Acme", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert made.returncode == 0, made.stderr
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pavior.cli", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = Served(proc, port, env)
        server.key = json.loads(made.stdout)["api_key"]
        server.app_id = json.loads(made.stdout)["app_id"]  # type: ignore[attr-defined]
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if server.call("GET", "/api/v1/openapi.json")[0] == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(proc.stdout.read() if proc.stdout else "serve did not start")
                time.sleep(0.2)
            yield server
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=30)
            print(out)


def from_both(server: Served, call: Any) -> list[tuple[int | None, Any]]:
    """call() -> (pid, result) on new connections until both web processes
    answered (at least AT_LEAST times in all)."""
    seen: list[tuple[int | None, Any]] = []
    while len({p for p, _ in seen if p is not None}) < 2 or len(seen) < AT_LEAST:
        assert len(seen) < GIVE_UP_AFTER, f"one process took every request: {seen}"
        seen.append(call())
    return seen


def track(server: Served, user: str) -> tuple[int | None, Any]:
    """A snippet batch (one page view) asking for the user's messages."""
    body = {
        "app_id": server.app_id,  # type: ignore[attr-defined]
        "user": {"id": user},
        "events": [{"message_id": str(uuid.uuid4()), "type": "page", "url": PAGE}],
        "messages_version": None,
    }
    status, answer, pid = server.call("POST", "/api/v1/track", body, bearer=False)
    assert status == 200, answer
    return pid, answer


def test_both_processes_serve_what_either_one_recorded(served: Served) -> None:
    status, ws, _ = served.call("PATCH", "/api/v1/workspace", {"identity_verification": "off"})
    assert status == 200, ws

    # One page view, taken by one process; its live attributes from both.
    track(served, "ada")

    def live() -> tuple[int | None, Any]:
        status, body, pid = served.call("GET", "/api/v1/users/ada/live")
        return pid, (status, body.get("current_page_url"))

    answers = from_both(served, live)
    assert {a for _, a in answers} == {(200, PAGE)}, answers

    # A draft message: made now, so that going live is the one change to come.
    body = {"channel": "in_app", "kind": "announcement", "title": "Hi", "body": "Hello"}
    status, made, _ = served.call("POST", "/api/v1/messages", body)
    assert status == 201, made
    # Both processes answer a tracked user with no candidates, and so hold the
    # workspace's audiences compiled at the current version...
    assert {json.dumps(a["messages"]["candidates"]) for _, a in from_both(
        served, lambda: track(served, "bob"))} == {"[]"}  # fmt: skip
    # ...then the message goes live through one of them: the other learns it
    # only from the shared messages version. Both offer it.
    status, _, _ = served.call("PATCH", f"/api/v1/messages/{made['id']}", {"status": "live"})
    assert status == 200
    offered = from_both(served, lambda: track(served, "bob"))
    assert {tuple(c["id"] for c in a["messages"]["candidates"]) for _, a in offered} == {
        (made["id"],)
    }, offered
