"""The group-commit writer as served: batches that share a flush, a failing
batch that fails alone, and a full queue that tells the client to retry.

To know which batches share a flush, the test first gives the writer a job
that waits on an event: requests sent meanwhile queue, and the writer's next
flush takes all of them together.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from django.db import connection

from pavior.core.errors import PaviorError
from pavior.people.models import Person
from pavior.tracking import writer as writer_module
from pavior.tracking.actions import Identity
from pavior.tracking.models import RawEvent
from pavior.tracking.writer import Job, writer
from pavior.workspaces.models import Workspace
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, ms

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = RawEvent._meta.db_table
POISON = "poison-message"


def _refuse_one_message() -> None:
    """A real database error when (and only when) the message POISON is inserted."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE FUNCTION pavior_test_poison() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'this row cannot be stored'; END $$ LANGUAGE plpgsql"
            )
            cur.execute(
                f"CREATE TRIGGER pavior_test_poison BEFORE INSERT ON {TABLE} FOR EACH ROW "
                f"WHEN (NEW.message_id = '{POISON}') EXECUTE FUNCTION pavior_test_poison()"
            )
        else:
            cur.execute(
                f"CREATE TRIGGER pavior_test_poison BEFORE INSERT ON {TABLE} "
                f"WHEN NEW.message_id = '{POISON}' "
                "BEGIN SELECT RAISE(ABORT, 'this row cannot be stored'); END"
            )


@pytest.fixture
def poison() -> Iterator[None]:
    _refuse_one_message()
    yield
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DROP TRIGGER pavior_test_poison ON {TABLE}")
            cur.execute("DROP FUNCTION pavior_test_poison()")
        else:
            cur.execute("DROP TRIGGER pavior_test_poison")


@pytest.fixture
def held_writer() -> Iterator[threading.Event]:
    """The writer busy with a job until the returned event is set."""
    busy, release = threading.Event(), threading.Event()

    def wait(key: str) -> Workspace:
        busy.set()
        release.wait(30)
        raise PaviorError("held for the test")

    writer.submit(Job("hold", Identity(user_id="hold"), [], T0, None, authenticate=wait))
    assert busy.wait(10), "the writer did not start"
    yield release
    release.set()


def _queued(n: int) -> Callable[[], bool]:
    def check() -> bool:
        return writer.waiting() >= n

    return check


def _wait(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, "requests did not reach the writer"
        time.sleep(0.02)


def _send(served: Any, bodies: list[dict[str, Any]]) -> Future[list[httpx.Response]]:
    """POST the batches concurrently, in the background; their responses, in order."""

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as c:
            posts = (c.post("/api/v1/track", content=json.dumps(b)) for b in bodies)
            return list(await asyncio.gather(*posts))

    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(asyncio.run, run())
    pool.shutdown(wait=False)
    return future


def _batch(app_id: str, user: str, *events: dict[str, Any]) -> dict[str, Any]:
    return {"app_id": app_id, "user": {"id": user}, "events": list(events), "sent_at": ms(T0)}


def test_a_batch_that_cannot_be_stored_fails_alone_in_its_flush(
    served, workspace, fake_clock, poison, held_writer
):
    for known in ("known1", "known2", "known3"):  # their page views take the grouped path
        Person.objects.create(workspace=workspace, external_id=known)
    app = workspace.app_id
    bodies = [
        _batch(app, "known1", event("page", T0)),
        _batch(app, "known2", event("page", T0), event("page", T0, message_id=POISON)),
        _batch(app, "known3", event("heartbeat", T0)),
        _batch(app, "new1", event("init", T0, attributes={"plan": "pro"}), event("page", T0)),
    ]
    responses = _send(served, bodies)
    _wait(_queued(len(bodies)))  # all four wait behind the held job: one flush
    held_writer.set()
    known1, bad, known3, new1 = responses.result(timeout=60)
    assert bad.status_code == 503 and bad.headers["Retry-After"].isdigit()
    assert error_of(bad)["code"] == "unavailable"
    assert [r.status_code for r in (known1, known3, new1)] == [200] * 3
    assert [r.json()["accepted"] for r in (known1, known3, new1)] == [1, 1, 2]
    stored = RawEvent.objects.values_list("person__external_id", flat=True)
    assert sorted(stored) == ["known1", "known3", "new1", "new1"]
    visits = dict(Person.objects.values_list("external_id", "total_visits"))
    assert visits == {"known1": 1, "known2": 0, "known3": 1, "new1": 1}
    assert Person.objects.get(external_id="new1").custom == {"plan": "pro"}


def test_a_full_queue_is_a_503_with_retry_after_and_the_retry_is_stored(
    served, workspace, fake_clock, held_writer, monkeypatch
):
    monkeypatch.setattr(writer_module, "MAX_QUEUE", 1)
    app = workspace.app_id
    first = _send(served, [_batch(app, "u1", event("page", T0))])
    _wait(_queued(1))  # the queue is now full
    late = [event("page", T0)]
    (refused,) = _send(served, [_batch(app, "u2", *late)]).result(timeout=30)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    assert error_of(refused)["code"] == "unavailable"
    held_writer.set()
    (stored,) = first.result(timeout=60)
    assert stored.status_code == 200
    assert list(Person.objects.values_list("external_id", flat=True)) == ["u1"]
    (retried,) = _send(served, [_batch(app, "u2", *late)]).result(timeout=30)
    assert retried.status_code == 200 and retried.json()["accepted"] == 1
    assert RawEvent.objects.count() == 2
