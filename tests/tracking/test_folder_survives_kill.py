"""kill -9 of the folder (the worker of a real `pavior serve`, then workers of
our own) while events are pending and being folded, then of `serve` itself:
every acknowledged event ends in RawEvent exactly once, nothing stays
pending, and every user's derived values are what `pavior recompute` gives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.cli_database import query
from tests.tracking.real_serve import PAVIOR, Serve, real_serve, run, stop

USERS = 300
SENDERS = 6
MAX_REQUESTS = 20_000  # a bound only: the traffic runs until `serve` is killed
WORKER_KILLS = 4
ACKS = 2000  # workers are killed until this many events were acknowledged
DERIVED = "external_id, total_visits, total_time_spent, last_seen_at, last_activity_at"


class Traffic:
    """Single-event requests from several threads; the acknowledged message ids."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.acked: set[str] = set()
        self.sent = 0
        self.statuses: Counter[int] = Counter()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def _send(self, seed: int) -> None:
        rnd = random.Random(seed)
        mine: list[dict[str, Any]] = []  # sent before: some are sent again (a retry)
        with httpx.Client(base_url=self.serve.url, timeout=10) as client:
            while not self.stop.is_set():
                with self.lock:
                    if self.sent >= MAX_REQUESTS:
                        return
                    self.sent += 1
                now = int(time.time() * 1000)
                if mine and rnd.random() < 0.05:
                    user, e = rnd.choice(mine)
                else:
                    # Some late (up to an hour old): the fold recomputes those.
                    late = rnd.random() < 0.2
                    e = {
                        "message_id": str(uuid.uuid4()),
                        "type": rnd.choice(["page", "heartbeat"]),
                        "at": now - (rnd.randint(0, 3600_000) if late else 0),
                    }
                    # Each thread its own users, one request at a time: no flush
                    # holds two batches of a user, so none goes inline, and
                    # every event stored in RawEvent was moved by a fold.
                    user = f"u{seed}-{rnd.randrange(USERS // SENDERS)}"
                    mine.append((user, e))
                body = {"app_id": self.serve.app_id, "user": {"id": user}, "events": [e]}
                body["sent_at"] = now
                try:
                    r = client.post("/api/v1/track", json=body)
                except httpx.HTTPError:
                    if self.serve.proc.poll() is not None:
                        return  # serve was killed
                    continue
                with self.lock:
                    self.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        self.acked.add(e["message_id"])

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def acks(self) -> int:
        with self.lock:
            return len(self.acked)

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def _wait(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.01)


def _kill_while_folding(serve: Serve, pid: int, rnd: random.Random) -> None:
    """Let the folder of process `pid` fold something, then kill -9 it at a
    random moment while events are pending."""
    folded = serve.stored()
    _wait(lambda: serve.stored() > folded, 30, "the worker folded nothing")
    time.sleep(rnd.uniform(0, 0.3))
    _wait(lambda: serve.pending() > 0, 10, "nothing pending")
    os.kill(pid, signal.SIGKILL)
    print(f"killed the worker with {serve.pending()} pending, {serve.stored()} stored")


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PAVIOR, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _normal(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as comparable values (SQLite gives datetimes as text, PostgreSQL not)."""
    out: list[Any] = []
    for v in row:
        if isinstance(v, str) and v[:2] == "20":
            v = datetime.fromisoformat(v).replace(tzinfo=None)
        elif isinstance(v, datetime):
            v = v.replace(tzinfo=None) - (v.utcoffset() or v - v)
        elif isinstance(v, float):
            v = round(v, 6)
        out.append(v)
    return tuple(out)


def _derived(env: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    rows = query(env, f"SELECT {DERIVED} FROM people_person")
    return {r[0]: _normal(r) for r in rows}


def test_acknowledged_events_survive_kill_9_of_the_folder(tmp_path: Path) -> None:
    rnd = random.Random()
    with real_serve(tmp_path, "fold_kill") as serve:
        traffic = Traffic(serve)
        traffic.start()
        try:
            # The worker `serve` started, then workers of our own, each killed mid-fold.
            pid = serve.worker_pid()
            assert pid is not None, "pavior serve runs no worker"
            _kill_while_folding(serve, pid, rnd)
            kills = 1
            while kills < WORKER_KILLS or (traffic.acks() < ACKS and kills < 3 * WORKER_KILLS):
                kills += 1
                worker = _worker(serve.env)
                try:
                    _kill_while_folding(serve, worker.pid, rnd)
                finally:
                    worker.kill()
                    worker.wait()
            # Then `serve` itself, right after an acknowledgement.
            acks = traffic.acks()
            _wait(lambda: traffic.acks() > acks, 30, "no more acknowledgements")
            serve.proc.kill()
            serve.proc.wait()
        finally:
            traffic.join()
        print(f"answers {traffic.statuses}, {traffic.acks()} acked, {serve.pending()} pending")
        assert traffic.acks() > ACKS / 2, traffic.acks()

        # A new worker folds whatever was left pending (the setting is not needed).
        worker = _worker(serve.env)
        try:
            _wait(lambda: serve.pending() == 0, 60, "pending events were not folded")
        finally:
            stop(worker, timeout=30)

        stored = query(serve.env, "SELECT message_id, COUNT(*) FROM tracking_rawevent GROUP BY 1")
        counts = dict(stored)
        assert traffic.acked <= set(counts), len(traffic.acked - set(counts))
        assert max(counts.values()) == 1
        folded = _derived(serve.env)
        assert len(folded) <= USERS
        out = run(serve.env, "recompute")
        assert out.startswith("Recomputed"), out
        assert _derived(serve.env) == folded
