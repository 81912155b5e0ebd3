"""kill -9 of the worker in the middle of a send: nobody gets two copies, and every
row ends `sent` or `failed` (the ones whose outcome is unknown are not sent again)."""

from __future__ import annotations

import asyncio
import collections
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
from aiosmtpd.controller import Controller

from tests.cli_database import own_database, query
from tests.messaging.smtp_sink import SmtpSink, free_port

PAVIOR = [sys.executable, "-m", "pavior.cli"]
USERS = 600


class SlowSink(SmtpSink):
    """A server that takes a few milliseconds per email, like a real one."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.004)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink() -> Iterator[SlowSink]:
    s = SlowSink(host="127.0.0.1", port=free_port())
    controller = Controller(s, hostname=s.host, port=s.port)
    controller.start()
    yield s
    controller.stop()


@pytest.fixture
def env(tmp_path: Path, sink: SlowSink) -> Iterator[dict[str, str]]:
    """The CLI's environment (its own data dir, or its own PostgreSQL database
    named after this run's, dropped afterwards), set up to send to the sink."""
    env = dict(
        os.environ,
        PAVIOR_DATA_DIR=str(tmp_path / "data"),
        PAVIOR_SMTP_URL=sink.url,
        PAVIOR_EMAIL_FROM="Acme <hello@acme.example>",
        PAVIOR_BASE_URL="https://pavior.acme.example",
        PAVIOR_EMAIL_RATE="0",
    )
    with own_database(env, "email_kill") as own:
        yield own


def _states(env: dict[str, str]) -> dict[str, int]:
    return dict(query(env, "SELECT state, COUNT(*) FROM messaging_delivery GROUP BY state"))


GO_LIVE = """
from pavior.messaging.actions import create_message
from pavior.workspaces.models import Workspace
ws = Workspace.objects.get()
m = create_message(ws, "email", {"subject": "Sale", "body": "Hi"}, status="live")
print(m.pk)
"""
RECOVER = """
from django.utils import timezone
from pavior.messaging.sending import LEASE, recover_stale
print(recover_stale(timezone.now() + LEASE))
"""


def _wait(what: Any, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert proc is None or proc.poll() is None, "the worker died on its own"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_kill_9_mid_send_sends_nobody_two_copies(
    tmp_path: Path, env: dict[str, str], sink: SlowSink
) -> None:
    run = lambda *a: subprocess.run([*PAVIOR, *a], env=env, check=True, capture_output=True)  # noqa: E731
    run("manage", "migrate", "-v0")
    app_id = json.loads(run("workspace", "create", "Kill", "--json").stdout)["app_id"]
    people = tmp_path / "people.csv"
    people.write_text("id,email\n" + "".join(f"u{i},u{i}@x.example\n" for i in range(USERS)))
    run("import", str(people), "--workspace", app_id, "--json")
    run("manage", "shell", "-c", GO_LIVE)  # queues the audience on commit
    assert _states(env) == {"pending": USERS}

    worker = subprocess.Popen(
        [*PAVIOR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        # Freeze it while it is sending (rows claimed, some not yet sent), then kill it.
        caught = {}
        for attempt in range(50):
            enough = 100 + 5 * attempt
            _wait(lambda: len(sink.received) >= enough, 120, worker)  # noqa: B023
            os.kill(worker.pid, signal.SIGSTOP)
            caught = _states(env)
            if caught.get("sending") and caught.get("pending"):
                break
            os.kill(worker.pid, signal.SIGCONT)
        assert caught.get("sending") and caught.get("pending"), caught
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    in_flight = caught["sending"]
    received_at_kill = len(sink.received)

    # Its claims run out (time passes: the lease), then a new worker finishes the send.
    out = run("manage", "shell", "-c", RECOVER).stdout.decode()
    assert int(out.split()[-1]) == in_flight, out
    worker = subprocess.Popen(
        [*PAVIOR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(lambda: set(_states(env)) <= {"sent", "failed"}, 120, worker)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    copies = collections.Counter(sink.recipients())
    assert max(copies.values()) == 1, [a for a, n in copies.items() if n > 1]
    final = _states(env)
    assert final == {"sent": USERS - in_flight, "failed": in_flight}
    reasons = query(env, "SELECT DISTINCT reason FROM messaging_delivery WHERE state = 'failed'")
    assert [r[0].split(":")[0] for r in reasons] == ["unknown outcome"]
    # Every user whose row is `sent` got it; the unknown ones got it at most once.
    sent = {
        r[0]
        for r in query(
            env,
            "SELECT p.email FROM messaging_delivery d JOIN people_person p ON p.id = d.person_id "
            "WHERE d.state = 'sent'",
        )
    }
    assert sent <= set(copies)
    assert received_at_kill <= len(copies) <= USERS
