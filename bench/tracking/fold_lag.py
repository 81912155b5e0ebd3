"""Fold lag: how long after its answer a tracked event shows in the user's attributes.

While a benchmark load runs, a probe sends one page event for a new user every
PERIOD seconds (a separate connection, as any visitor) and, once the intake has
answered 200, reads the database until that user's last_activity_at is set:
the folder (pavior.tracking.folder) has applied the event. The lag is the time
from the answer to the first read that sees it (reads every 5 ms, so figures
are upper bounds by about that much). With the folder off the event is applied
before the answer and the lag is one read.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
import uuid
from contextlib import closing
from typing import Any

import httpx

PERIOD = 0.1
POLL = 0.005
GIVE_UP = 30.0


class FoldLagProbe:
    def __init__(self, base: str, app_id: str, database: str) -> None:
        """`database`: a postgresql:// URL or the path of the SQLite file."""
        self.base, self.app_id, self.database = base, app_id, database
        self.lags: list[float] = []
        self.lost = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FoldLagProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=GIVE_UP + 5)

    def summary(self) -> str:
        if not self.lags:
            return f"fold lag: no probe answered (lost {self.lost})"
        lags = sorted(self.lags)
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        return (
            f"fold lag over {len(lags)} probes: p50 {statistics.median(lags) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms"
            + (f", {self.lost} never applied within {GIVE_UP:.0f} s" if self.lost else "")
        )

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client, closing(self._connect()) as db:
            while not self._stop.wait(PERIOD):
                user = f"probe-{uuid.uuid4().hex[:12]}"
                body = {
                    "app_id": self.app_id,
                    "user": {"id": user},
                    "events": [{"message_id": uuid.uuid4().hex, "type": "page"}],
                }
                try:
                    answer = client.post(f"{self.base}/api/v1/track", json=body)
                except httpx.HTTPError:
                    continue
                if answer.status_code != 200:
                    continue
                acked = time.monotonic()
                while not self._applied(db, user):
                    if time.monotonic() - acked > GIVE_UP:
                        self.lost += 1
                        break
                    time.sleep(POLL)
                else:
                    self.lags.append(time.monotonic() - acked)

    def _connect(self) -> Any:
        if self.database.startswith("postgres"):
            import psycopg

            return psycopg.connect(self.database, autocommit=True)
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30)
        db.isolation_level = None
        return db

    def _applied(self, db: Any, user: str) -> bool:
        mark = "%s" if self.database.startswith("postgres") else "?"
        row = db.execute(
            "SELECT last_activity_at FROM people_person WHERE external_id = " + mark, (user,)
        ).fetchone()
        return row is not None and row[0] is not None
