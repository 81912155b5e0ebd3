"""A browser call attaches an existing user found by email only when it proves
that email (SPEC §6): a hash vouches for the value it was computed over and
nothing else. Server trust may still merge by email."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.core.identity import user_hash
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import update_workspace_settings
from tests.tracking.conftest import event
from tests.tracking.served_calls import init, segment, site_page, track, user_jwt

pytestmark = pytest.mark.django_db(transaction=True)

VICTIM = "victim@x.io"


def _person(ws: Any, user_id: str) -> Person | None:
    return Person.objects.filter(workspace=ws, external_id=user_id).first()


def _email_only_victim(ws: Any) -> Person:
    """The victim as a site that identifies by email first knows them."""
    create_attribute(ws, "plan", "string")
    return upsert_user(ws, {"email": VICTIM, "plan": "free"}, trust=Trust.SECRET).person


def _unproven_warning(body: dict[str, Any]) -> None:
    warnings = [w for w in body["warnings"] if w["field"] == "email"]
    assert [w["code"] for w in warnings] == ["email_not_proven"], body


@pytest.mark.parametrize("mode", ["required", "optional"])
@pytest.mark.parametrize("kind", ["init", "page"])
def test_an_unproven_email_does_not_take_over_an_email_only_user(served, new_workspace, mode, kind):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    update_workspace_settings(ws, {"identity_verification": mode})
    victim = _email_only_victim(ws)
    # required: a real account of the site, with a valid hash for its own id;
    # optional: no hash at all.
    attacker = {"id": "mallory", "email": VICTIM}
    if mode == "required":
        attacker["user_hash"] = user_hash(secret, "mallory")
    r = track(served, ws.app_id, attacker, event(kind, attributes={"plan": "pro"}))
    assert r.status_code == 200, r.text
    _unproven_warning(r.json())
    kept = _person(ws, VICTIM)
    assert kept is not None and kept.pk == victim.pk  # not re-keyed: the victim's id still works
    assert (kept.email, kept.custom) == (VICTIM, {"plan": "free"})
    assert not RawEvent.objects.filter(person=kept).exists()
    mallory = _person(ws, "mallory")
    assert mallory is not None and mallory.email is None  # the email stayed where it was
    assert RawEvent.objects.filter(person=mallory).count() == 1


def test_an_unproven_email_alone_does_not_reach_the_user_who_has_it(served, workspace):
    victim = upsert_user(workspace, {"id": "v1", "email": VICTIM}, trust=Trust.SECRET).person
    r = init(served, workspace.app_id, {"email": VICTIM}, {"name": "Mallory", "plan": "pro"})
    assert r.status_code == 200, r.text
    _unproven_warning(r.json())
    victim.refresh_from_db()
    assert (victim.name, victim.custom, victim.total_visits) == (None, {}, 0)
    assert not RawEvent.objects.filter(person=victim).exists()
    # The call's user is the one its key names, and gets no email someone else has.
    stranger = _person(workspace, VICTIM)
    assert stranger is not None and stranger.email is None and stranger.name == "Mallory"


def test_an_update_cannot_give_the_user_someone_elses_email(served, workspace):
    upsert_user(workspace, {"id": "v1", "email": VICTIM}, trust=Trust.SECRET)
    init(served, workspace.app_id, {"id": "mallory"})
    r = track(
        served, workspace.app_id, {"id": "mallory"}, event("update", attributes={"email": VICTIM})
    )
    assert r.status_code == 200, r.text
    _unproven_warning(r.json())
    assert _person(workspace, "mallory").email is None
    assert Person.objects.filter(workspace=workspace, email=VICTIM).count() == 1


def test_an_email_no_one_else_has_is_still_written(served, workspace):
    r = init(served, workspace.app_id, {"id": "u1", "email": "own@x.io"})
    assert r.status_code == 200 and r.json()["warnings"] == []
    assert _person(workspace, "u1").email == "own@x.io"


def test_a_hash_over_the_email_proves_it_and_attaches(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    victim = upsert_user(ws, {"id": "v1", "email": VICTIM}, trust=Trust.SECRET).person
    user = {"email": VICTIM, "user_hash": user_hash(secret, VICTIM)}
    r = init(served, ws.app_id, user, {"plan": "pro"})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    victim.refresh_from_db()
    assert victim.custom == {"plan": "pro"}
    assert not Person.objects.filter(workspace=ws, external_id=VICTIM).exists()


def test_a_signed_email_claim_proves_it_and_upgrades_the_email_only_user(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    victim = _email_only_victim(ws)
    token = user_jwt(secret, user_id="real-id", email=VICTIM)
    r = init(served, ws.app_id, {"id": "real-id", "email": VICTIM, "user_jwt": token})
    assert r.status_code == 200 and r.json()["verified"] is True, r.text
    assert r.json()["warnings"] == []
    upgraded = _person(ws, "real-id")
    assert upgraded is not None and upgraded.pk == victim.pk  # upgraded in place


def test_a_hash_over_the_id_proves_nothing_about_the_email(served, new_workspace):
    """A valid user_hash of the call's id does not make its email proven."""
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    victim = _email_only_victim(ws)
    user = {"id": "mallory", "email": VICTIM, "user_hash": user_hash(secret, "mallory")}
    r = init(served, ws.app_id, user)
    assert r.json()["verified"] is True
    assert _person(ws, VICTIM).pk == victim.pk


def test_segment_with_the_app_id_follows_the_browser_rule(served, workspace):
    victim = _email_only_victim(workspace)
    call = {"userId": "mallory", "traits": {"email": VICTIM, "plan": "pro"}}
    r = segment(served, workspace.app_id, "/v1/identify", call)
    assert r.status_code == 200, r.text
    _unproven_warning(r.json())
    assert _person(workspace, VICTIM).pk == victim.pk
    assert _person(workspace, "mallory").email is None


def test_server_trust_may_still_merge_by_email(served, new_workspace):
    ws = new_workspace.workspace
    victim = _email_only_victim(ws)
    call = {"userId": "real-id", "traits": {"email": VICTIM}}
    r = segment(served, new_workspace.api_key, "/v1/identify", call)
    assert r.status_code == 200, r.text
    assert _person(ws, "real-id").pk == victim.pk


def test_the_snippet_shows_the_warning(served, workspace, site, page):
    victim = _email_only_victim(workspace)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    site["html"] = site_page(served, {"app_id": workspace.app_id, "id": "mallory", "email": VICTIM})
    page.goto(site["url"] + "/")
    deadline = time.monotonic() + 15
    while not any("[Pavior] email:" in w for w in warnings):
        assert time.monotonic() < deadline, f"no warning in the console: {warnings}"
        page.wait_for_timeout(200)
    assert _person(workspace, VICTIM).pk == victim.pk
    assert page.probe.console_errors == []


def test_a_user_keeps_the_email_they_already_share(served, workspace):
    """Two users the server gave one email: each may still send it as their own."""
    for user_id in ("u1", "u2"):
        upsert_user(workspace, {"id": user_id, "email": "team@x.io"}, trust=Trust.SECRET)
    r = init(served, workspace.app_id, {"id": "u1", "email": "team@x.io"})
    assert r.status_code == 200 and r.json()["warnings"] == [], r.text
    assert _person(workspace, "u1").email == "team@x.io"
