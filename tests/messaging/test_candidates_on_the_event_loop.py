"""The intake answers a returning user's candidates on its event loop from the
cache (delivery.tracking_answer with cached_only) with the person as the
intake loads it: only the tracking columns (tracking.rows). Reading another
column there is a query, which Django refuses on an event loop
(SynchronousOnlyOperation), and the answer would lose its messages: the
cached form answers without it or says NOT_CACHED, never raises.

Django's guard is on here as in production (the served tests turn it off)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.messaging import delivery
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.tracking.rows import lock_people
from pavior.workspaces.actions import create_workspace, update_workspace_settings
from tests.messaging.conftest import live_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def ws(monkeypatch: Any) -> Any:
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    workspace = create_workspace("Acme").workspace
    return update_workspace_settings(workspace, {"identity_verification": "off"})


def on_the_event_loop(ws: Any, user_id: str) -> Any:
    """tracking_answer's event-loop form, for the person as the intake has it."""
    person = lock_people(ws.pk, [user_id], lock=False)[user_id]
    assert "custom" in person.get_deferred_fields()

    async def answer() -> Any:
        return delivery.tracking_answer(ws, person, False, "", cached_only=True)

    return asyncio.run(answer())


def in_a_thread(ws: Any, user_id: str) -> Any:
    person = lock_people(ws.pk, [user_id], lock=False)[user_id]
    return delivery.tracking_answer(ws, person, False, "")


def test_a_returning_user_is_answered_from_the_cache(
    ws: Any, django_assert_num_queries: Any
) -> None:
    m = live_message(ws)
    upsert_user(ws, {"id": "ada"}, trust=Trust.SECRET)
    first = in_a_thread(ws, "ada")  # the first batch: the thread form fills the cache
    assert [c["id"] for c in first["candidates"]] == [m.pk]
    person = lock_people(ws.pk, ["ada"], lock=False)["ada"]

    async def answer() -> Any:
        return delivery.tracking_answer(ws, person, False, "", cached_only=True)

    with django_assert_num_queries(0):
        again = asyncio.run(answer())
    assert again == first


def test_an_audience_on_a_custom_attribute_sends_the_answer_to_a_thread(ws: Any) -> None:
    create_attribute(ws, "plan", "string")
    m = live_message(ws, audience={"attribute": "plan", "op": "eq", "value": "pro"})
    upsert_user(ws, {"id": "ada", "plan": "pro"}, trust=Trust.SECRET)
    assert [c["id"] for c in in_a_thread(ws, "ada")["candidates"]] == [m.pk]
    # `plan` is not loaded: reading it would be a query on the event loop.
    assert on_the_event_loop(ws, "ada") is delivery.NOT_CACHED
    assert [c["id"] for c in in_a_thread(ws, "ada")["candidates"]] == [m.pk]


def test_a_stale_entry_sends_the_answer_to_a_thread(ws: Any) -> None:
    """An audience on a column the intake loads (total_visits): the entry is read
    on the event loop, and when the value moved its recomputation, which reads
    every value, is left to the thread."""
    m = live_message(ws, audience={"attribute": "total_visits", "op": "lte", "value": 2})
    upsert_user(ws, {"id": "ada"}, trust=Trust.SECRET)
    assert [c["id"] for c in in_a_thread(ws, "ada")["candidates"]] == [m.pk]
    assert [c["id"] for c in on_the_event_loop(ws, "ada")["candidates"]] == [m.pk]
    Person.objects.filter(workspace=ws, external_id="ada").update(total_visits=5)
    assert on_the_event_loop(ws, "ada") is delivery.NOT_CACHED
    assert in_a_thread(ws, "ada")["candidates"] == []
