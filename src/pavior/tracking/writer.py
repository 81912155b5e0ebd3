"""Group commit for the tracking intake: one writer thread, one transaction per flush.

Requests hand their parsed batch to the writer and wait. The writer takes
every batch queued since its last flush, stores them in one transaction (each
batch in its own savepoint, so a refused batch or a failing statement rolls
back only that batch), commits, and only then answers each waiting request.
A commit that fails answers 503 to every batch in the flush: nothing that was
not committed is ever acknowledged.

Committing once for many requests is what makes the intake fast (one fsync
and one round trip of BEGIN/COMMIT shared by a whole flush), and having one
writer per process is also what SQLite wants: its writers queue anyway.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.tracking.actions import (
    Event,
    Identity,
    IngestResult,
    check_identity,
    publish_live_all,
    store,
)
from pavior.tracking.bulk import store_simple
from pavior.tracking.geoip import Place
from pavior.tracking.lookup import require_workspace
from pavior.workspaces.models import Workspace

log = logging.getLogger("pavior.tracking")

# At most this many batches share one transaction: a bigger flush holds its
# row locks longer and makes the first request in it wait for the last.
MAX_FLUSH = 256
# Past this many waiting batches the intake answers 503 at once (the snippet
# retries later) rather than letting latency grow without bound.
MAX_QUEUE = 20_000
# With the folder on, batches of at most this many events are left to it.
FOLD_MAX_EVENTS = 5


class Unavailable(PaviorError):
    code = "unavailable"
    status = 503


Outcome = IngestResult | PaviorError


def _unanswered(outcome: Outcome) -> None:
    pass


@dataclass
class Job:
    """One user's batch to store: from the snippet (`key` is the app_id) or
    from one user of a Segment call (`key` is its write key)."""

    key: str
    identity: Identity
    events: list[Event]  # none: only check `key` (a Segment call with nothing to record)
    received_at: datetime
    place: Place | None
    trust: Trust = Trust.BROWSER
    # The workspace `key` opens, or a PaviorError saying why not; it reads the
    # database, so the writer calls it on its own thread.
    authenticate: Callable[[str], Workspace] = require_workspace
    done: Callable[[Outcome], None] = _unanswered
    workspace: Workspace | None = None
    verified: bool = False


_STOP = object()


def unavailable() -> Unavailable:
    return Unavailable("Could not store the batch; retry later")


class GroupWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, job: Job) -> None:
        """Queue a batch; job.done is called (on the writer thread, or at once
        when the queue is full) with its outcome."""
        if self.waiting() >= MAX_QUEUE:
            job.done(unavailable())
            return
        self._ensure_started()
        self._queue.put(job)

    def waiting(self) -> int:
        """How many batches are queued (approximately: other threads add to it)."""
        return self._queue.qsize()

    async def write(self, *jobs: Job) -> list[Outcome]:
        """Queue the jobs and wait until each is committed (or refused, or failed)."""
        loop = asyncio.get_running_loop()
        if len(jobs) == 1:  # the snippet's case: no gathering future
            first: asyncio.Future[Outcome] = loop.create_future()
            jobs[0].done = _Waiter(loop, first)
            self.submit(jobs[0])
            return [await first]
        futures: list[asyncio.Future[Outcome]] = []
        for job in jobs:
            one: asyncio.Future[Outcome] = loop.create_future()
            job.done = _Waiter(loop, one)
            futures.append(one)
            self.submit(job)
        return list(await asyncio.gather(*futures))

    def stop(self) -> None:
        """Finish what is queued, close the writer's connection and end its
        thread (tests, shutdown); the next batch starts a new one."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)  # type: ignore[arg-type]
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="pavior-tracking-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            jobs = [self._queue.get()]
            while len(jobs) < MAX_FLUSH:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in jobs:
                stopping = True
                jobs = [j for j in jobs if j is not _STOP]
                if not jobs:
                    break
            try:
                flush(jobs)
            except Exception:  # never let the writer die: answer and go on
                log.exception("tracking flush failed unexpectedly")
                for job in jobs:
                    job.done(unavailable())
        connection.close()


def _resolve(future: asyncio.Future[Any], outcome: Any) -> None:
    if not future.done():  # the client may have gone away meanwhile
        future.set_result(outcome)


def _resolve_all(answers: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, outcome in answers:
        _resolve(future, outcome)


@dataclass
class _Waiter:
    """The `done` of a job whose request waits on an event loop (GroupWriter.write)."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]

    def __call__(self, outcome: Outcome) -> None:
        self.loop.call_soon_threadsafe(_resolve, self.future, outcome)


def answer(answers: list[tuple[Job, Outcome]]) -> None:
    """Call each job's `done`; the requests waiting on one event loop are woken
    by one call_soon_threadsafe for the flush, not one each (each is a write
    to the loop's wake-up pipe and a turn of the loop)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for job, outcome in answers:
        if isinstance(job.done, _Waiter):
            by_loop.setdefault(job.done.loop, []).append((job.done.future, outcome))
        else:
            job.done(outcome)
    for loop, waiting in by_loop.items():
        loop.call_soon_threadsafe(_resolve_all, waiting)


def flush(jobs: list[Job]) -> None:
    """Store the jobs in one transaction and answer each once it is committed."""
    answers: list[tuple[Job, Outcome]] = []
    try:
        _flush(jobs, answers)
    finally:
        answer(answers)


def _flush(jobs: list[Job], answers: list[tuple[Job, Outcome]]) -> None:
    ready: list[Job] = []
    for job in jobs:
        try:
            job.workspace = job.authenticate(job.key)
            if job.events:
                job.verified = check_identity(job.workspace, job.identity, job.trust)
        except PaviorError as e:
            answers.append((job, e))
            continue
        except DatabaseError:
            log.exception("tracking lookup failed")
            answers.append((job, unavailable()))
            continue
        if job.events:
            ready.append(job)
        else:
            answers.append((job, IngestResult()))
    if not ready:
        return
    # One lock order for every flush: two processes' writers never deadlock on
    # each other's person rows.
    ready.sort(key=lambda j: (j.workspace.pk if j.workspace else 0, j.identity.key or ""))
    outcomes = _commit(ready, grouped=True)
    if outcomes is None:
        # The grouped statements or the commit failed and took the transaction
        # with them, so nothing of the flush is stored. Once more with every
        # batch in its own savepoint: one batch's failure is then only its own.
        outcomes = _commit(ready, grouped=False)
    if outcomes is None:
        answers += [(job, unavailable()) for job in ready]
        return
    publish_live_all(
        [
            (job.workspace, outcome)
            for job, outcome in zip(ready, outcomes, strict=True)
            if isinstance(outcome, IngestResult) and job.workspace is not None
        ]
    )
    answers += list(zip(ready, outcomes, strict=True))


@contextmanager
def between_processes() -> Iterator[None]:
    """On SQLite, the writers of several server processes take turns through a
    file lock: waiting on it wakes the moment it is free, where SQLite's own
    busy handler sleeps and polls (up to 100 ms a time), which was most of the
    time of a flush with two worker processes. PostgreSQL needs nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    path = f"{connection.settings_dict['NAME']}.writer-lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _commit(ready: list[Job], *, grouped: bool) -> list[Outcome] | None:
    """One transaction for the flush: the plain batches together
    (pavior.tracking.bulk) when `grouped`, the others one by one; None if it
    could not be committed."""
    try:
        with between_processes(), transaction.atomic():
            stored = _store_grouped(ready) if grouped else {}
            return [stored[i] if i in stored else _store_one(j) for i, j in enumerate(ready)]
    except DatabaseError:
        log.warning("tracking flush of %d batches failed", len(ready), exc_info=not grouped)
        # The writer keeps its connection between flushes; after a failure a
        # fresh one replaces it rather than a possibly broken one being reused.
        connection.close()
        return None
    except Exception:
        if not grouped:
            raise
        # A batch the grouped statements cannot take for a reason no check
        # foresaw: the flush goes again one batch at a time, where it fails
        # alone (_store_one) instead of failing every batch with it.
        log.exception("tracking flush of %d batches failed unexpectedly", len(ready))
        return None


def _store_grouped(ready: list[Job]) -> dict[int, Outcome]:
    """pavior.tracking.bulk's grouped path for the flush; with the folder on
    (PAVIOR_FOLD_IN_WORKER), small batches are left to it (deferred) and
    bigger ones applied here: for a batch of many events the folder's second
    write of each event costs more than the derivation it saves."""
    if not settings.PAVIOR_FOLD_IN_WORKER:
        return dict(store_simple(ready))
    few = [i for i, job in enumerate(ready) if len(job.events) <= FOLD_MAX_EVENTS]
    many = [i for i, job in enumerate(ready) if len(job.events) > FOLD_MAX_EVENTS]
    stored: dict[int, Outcome] = {}
    for positions, deferred in ((few, True), (many, False)):
        got = store_simple([ready[i] for i in positions], deferred=deferred)
        stored |= {positions[k]: result for k, result in got.items()}
    return stored


def _store_one(job: Job) -> Outcome:
    """One batch in its own savepoint: its failure is its own, not the flush's."""
    assert job.workspace is not None
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return store(
                    job.workspace,
                    job.identity,
                    job.events,
                    trust=job.trust,
                    received_at=job.received_at,
                    place=job.place,
                    verified=job.verified,
                )
        except PaviorError as e:
            return e
        except IntegrityError:
            # Another process created this new user first: the retry finds them.
            if attempt == 2:
                log.exception("tracking batch kept conflicting")
        except DatabaseError:
            log.exception("tracking batch could not be stored")
            break
        except Exception:  # its savepoint is rolled back; the flush goes on
            log.exception("tracking batch could not be stored")
            break
    return unavailable()


writer = GroupWriter()
