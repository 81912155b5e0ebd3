"""The bubble's launcher stays on the page once the user was shown a message
(their panel holds it), even when no candidate is left, and the snippet's
answer says so from the candidate cache, without reading the database."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.messaging import delivery
from pavior.people.actions import create_attribute
from pavior.people.models import Person
from pavior.workspaces.actions import create_workspace, update_workspace_settings
from tests.messaging.conftest import live_message, messenger, track

pytestmark = pytest.mark.django_db(transaction=True)


def test_launcher_stays_once_a_message_was_shown(
    served: Any, django_assert_num_queries: Any
) -> None:
    ws = update_workspace_settings(
        create_workspace("Acme").workspace, {"identity_verification": "off"}
    )
    m = live_message(ws)
    first = track(served, ws.app_id, {"id": "ada"}).json()["messages"]
    assert [c["id"] for c in first["candidates"]] == [m.pk] and first["launcher"] is True
    assert messenger(served, "show", ws.app_id, {"id": "ada"}, message_id=m.pk).status_code == 200

    after = track(served, ws.app_id, {"id": "ada"}, version=first["version"]).json()["messages"]
    assert after["candidates"] == [] and after["launcher"] is True
    # A user never shown anything gets no launcher when nothing is for them.
    other_ws = update_workspace_settings(
        create_workspace("Other").workspace, {"identity_verification": "off"}
    )
    create_attribute(other_ws, "plan", "string")
    live_message(other_ws, audience={"attribute": "plan", "op": "eq", "value": "pro"})
    other = track(served, other_ws.app_id, {"id": "bob"}).json()["messages"]
    assert other["candidates"] == [] and other["launcher"] is False

    # Once the entry is cached, the answer (launcher included) needs no query.
    ada = Person.objects.get(workspace=ws, external_id="ada")
    delivery.tracking_answer(ws, ada, False, "")
    with django_assert_num_queries(0):
        cached = delivery.tracking_answer(ws, ada, False, "", cached_only=True)
    assert cached == {"version": after["version"], "candidates": [], "launcher": True}
