"""Once a user has been verified, unverified browser calls for them are refused
(403) and write nothing, in `optional` mode as in `required` (SPEC §6)."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.core.identity import user_hash
from pavior.people.actions import upsert_user
from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import update_workspace_settings
from tests.conftest import error_of
from tests.tracking.conftest import event
from tests.tracking.served_calls import init, segment, track

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(ws: Any, user_id: str) -> tuple[Any, ...]:
    p = Person.objects.get(workspace=ws, external_id=user_id)
    events = RawEvent.objects.filter(person=p).count()
    return (p.name, p.phone, p.email, p.custom, p.total_visits, p.last_seen_at, events)


def _verified(served: Any, new: Any, user_id: str = "u1") -> dict[str, Any]:
    user = {"id": user_id, "user_hash": user_hash(new.identity_secret, user_id)}
    r = init(served, new.workspace.app_id, user, {"name": "Ada Lovelace", "plan": "pro"})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    return user


def _refused(r: Any) -> None:
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "identity_verification_failed"


def test_a_verified_call_marks_the_user_verified(served, new_workspace):
    _verified(served, new_workspace)
    assert Person.objects.get(external_id="u1").verified_at is not None


@pytest.mark.parametrize(
    "events",
    [
        [event("init", attributes={"name": "Mallory", "phone": "+1 555", "plan": "free"})],
        [event("init", attributes={"email": "mallory@x.io"})],
        [event("update", attributes={"plan": "free"})],
        [event("page"), event("heartbeat")],  # the writer's grouped path
    ],
    ids=["profile", "email", "update", "page"],
)
def test_unverified_calls_for_a_verified_user_write_nothing(served, new_workspace, events):
    ws = new_workspace.workspace
    _verified(served, new_workspace)
    before = _stored(ws, "u1")
    for user in ({"id": "u1"}, {"id": "u1", "user_hash": "0" * 64}):
        _refused(track(served, ws.app_id, user, *events))
    assert _stored(ws, "u1") == before


def test_an_unverified_call_by_the_email_of_a_verified_email_only_user(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    r = init(served, ws.app_id, {"email": "ada@x.io", "user_hash": user_hash(secret, "ada@x.io")})
    assert r.json()["verified"] is True
    before = _stored(ws, "ada@x.io")
    _refused(init(served, ws.app_id, {"email": "ada@x.io"}, {"name": "Mallory"}))
    assert _stored(ws, "ada@x.io") == before


def test_segment_with_the_app_id_cannot_write_to_a_verified_user(served, new_workspace):
    ws = new_workspace.workspace
    _verified(served, new_workspace)
    before = _stored(ws, "u1")
    call = {"userId": "u1", "traits": {"name": "Mallory", "plan": "free"}}
    _refused(segment(served, ws.app_id, "/v1/identify", call))
    assert _stored(ws, "u1") == before
    # Server trust is verified by its key.
    r = segment(served, new_workspace.api_key, "/v1/identify", call)
    assert r.status_code == 200, r.text
    assert Person.objects.get(external_id="u1").name == "Mallory"


def test_verified_calls_keep_working_and_other_users_are_untouched(served, new_workspace):
    ws = new_workspace.workspace
    user = _verified(served, new_workspace)
    r = track(served, ws.app_id, user, event("update", attributes={"plan": "team"}), event("page"))
    assert r.status_code == 200, r.text
    assert Person.objects.get(external_id="u1").custom["plan"] == "team"
    # Never verified (here: created by the secret API): unverified calls are tracked.
    upsert_user(ws, {"id": "u2"}, trust=Trust.SECRET)
    r = track(served, ws.app_id, {"id": "u2"}, event("page"))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert Person.objects.get(external_id="u2").verified_at is None


def test_with_verification_off_nothing_is_refused(served, new_workspace):
    ws = new_workspace.workspace
    _verified(served, new_workspace)
    update_workspace_settings(ws, {"identity_verification": "off"})
    r = track(served, ws.app_id, {"id": "u1"}, event("page"))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
