"""A lone UTF-16 surrogate never reaches storage, and a batch that fails for a
reason no check foresaw fails alone in its flush.

A surrogate written as raw UTF-8 bytes (ED A0 BD) is not UTF-8, but Python's
json decodes bytes with "surrogatepass": it got through the parser into a
user id, where storing it raised outside the database's errors and took the
writer's whole flush down with it: every batch that shared the flush was
answered 503, and the snippet kept sending the same body.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pavior.people.models import Person
from pavior.tracking.actions import Event, Identity, IngestResult
from pavior.tracking.models import RawEvent
from pavior.tracking.writer import Job, flush
from tests.conftest import error_of
from tests.tracking.conftest import T0

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "user_id",
    [b"\xed\xa0\xbd", b"a\xed\xbf\xbfb"],  # a high and a low surrogate, as UTF-8 bytes
)
def test_a_surrogate_in_raw_utf8_is_a_400_naming_it(
    served: Any, workspace: Any, user_id: bytes
) -> None:
    body = (
        b'{"app_id":"' + workspace.app_id.encode() + b'","user":{"id":"' + user_id + b'"},'
        b'"events":[{"message_id":"m1","type":"page"}]}'
    )
    r = httpx.post(f"{served.url}/api/v1/track", content=body, timeout=30)
    assert r.status_code == 400, r.text
    assert "surrogate" in error_of(r)["message"]
    assert not RawEvent.objects.exists() and not Person.objects.exists()


def test_a_batch_failing_outside_the_database_fails_alone(workspace: Any) -> None:
    """Straight to the writer's flush (the parser would refuse the id): the
    poisoned batch gets 503, the others of its flush are stored."""
    answers: dict[str, Any] = {}

    def job(user_id: str) -> Job:
        def done(outcome: Any, user_id: str = user_id) -> None:
            answers[user_id] = outcome

        event = Event(message_id=f"m-{len(answers)}-{user_id!r}", type="page", at=T0)
        return Job(workspace.app_id, Identity(user_id=user_id), [event], T0, None, done=done)

    jobs = [job("ada"), job("bad\ud83d"), job("bob")]
    jobs[1].events[0].message_id = "m-bad"
    flush(jobs)
    assert isinstance(answers["ada"], IngestResult) and answers["ada"].accepted == 1
    assert isinstance(answers["bob"], IngestResult) and answers["bob"].accepted == 1
    assert getattr(answers["bad\ud83d"], "status", None) == 503
    stored = sorted(RawEvent.objects.values_list("person__external_id", flat=True))
    assert stored == ["ada", "bob"]
