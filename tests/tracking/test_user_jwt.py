"""user_jwt (SPEC §6): an HS256 JWT signed with an identity secret, the signed
alternative to user_hash. Its claims are verified values: user_id, email (proof
of that email) and attributes; anything else about it is refused like a wrong hash."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import create_identity_secret, update_workspace_settings
from tests.conftest import error_of
from tests.tracking.served_calls import init, site_page, user_jwt

pytestmark = pytest.mark.django_db(transaction=True)


def _unsigned(**claims: Any) -> str:
    """A token with alg "none": the classic forgery."""

    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_a_valid_token_verifies_and_its_claims_are_written(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    update_workspace_settings(ws, {"identity_verification": "required"})
    token = user_jwt(secret, user_id="u1", email="ada@x.io", plan="pro", name="Ada Lovelace")
    r = init(served, ws.app_id, {"id": "u1", "user_jwt": token}, {"plan": "free"})
    assert r.status_code == 200, r.text
    assert r.json()["verified"] is True and r.json()["errors"] == []
    p = Person.objects.get(workspace=ws, external_id="u1")
    # The signed email and attributes are written; a signed value wins over the page's.
    assert (p.email, p.custom, p.first_name) == ("ada@x.io", {"plan": "pro"}, "Ada")
    assert p.signed_up_at is not None and p.verified_at is not None


def test_any_active_secret_signs_and_a_revoked_one_does_not(served, new_workspace):
    ws = new_workspace.workspace
    second, row = create_identity_secret(ws)
    token = user_jwt(second, user_id="u1")
    assert init(served, ws.app_id, {"id": "u1", "user_jwt": token}).json()["verified"] is True
    row.delete()
    token = user_jwt(second, user_id="u2")
    assert init(served, ws.app_id, {"id": "u2", "user_jwt": token}).json()["verified"] is False


BAD_TOKENS = {
    "expired": lambda s: user_jwt(s, user_id="u1", exp=int(time.time()) - 60),
    "wrong secret": lambda s: user_jwt("not-the-secret" * 3, user_id="u1"),
    "HS512": lambda s: user_jwt(s, algorithm="HS512", user_id="u1"),
    "alg none": lambda s: _unsigned(user_id="u1", exp=int(time.time()) + 600),
    "another user_id": lambda s: user_jwt(s, user_id="u2"),
    "no user_id for the call's id": lambda s: user_jwt(s, email="ada@x.io"),
    "another email": lambda s: user_jwt(s, user_id="u1", email="eve@x.io"),
    "no exp": lambda s: user_jwt(s, user_id="u1", exp=None),
    "not a token": lambda s: "not.a.token",
}


@pytest.mark.parametrize("bad", BAD_TOKENS, ids=list(BAD_TOKENS))
def test_a_bad_token_is_refused_like_a_wrong_hash(served, new_workspace, bad):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    token = BAD_TOKENS[bad](secret)
    user = {"id": "u1", "email": "ada@x.io", "user_jwt": token}
    # optional: tracked, but unverified and without the token's privileges.
    r = init(served, ws.app_id, user)
    assert r.status_code == 200 and r.json()["verified"] is False, r.text
    p = Person.objects.get(workspace=ws, external_id="u1")
    assert (p.signed_up_at, p.verified_at) == (None, None)
    p.delete()
    # required: refused, nothing written.
    update_workspace_settings(ws, {"identity_verification": "required"})
    r = init(served, ws.app_id, user, {"plan": "pro"})
    assert r.status_code == 403, r.text
    error = error_of(r)
    assert (error["code"], error["field"]) == ("identity_verification_failed", "user_jwt")
    assert not Person.objects.exists() and not RawEvent.objects.exists()


def test_the_refusal_says_what_is_wrong(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    update_workspace_settings(ws, {"identity_verification": "required"})
    expired = user_jwt(secret, user_id="u1", exp=int(time.time()) - 60)
    r = init(served, ws.app_id, {"id": "u1", "user_jwt": expired})
    assert "expired" in error_of(r)["message"]


def test_an_email_only_call_is_proven_by_the_email_claim(served, new_workspace):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    token = user_jwt(secret, email="ada@x.io")
    r = init(served, ws.app_id, {"email": "ada@x.io", "user_jwt": token})
    assert r.json()["verified"] is True, r.text
    assert Person.objects.get(workspace=ws, external_id="ada@x.io").email == "ada@x.io"


# --- the snippet passes user_jwt from init to the intake --------------------------------


def test_the_snippet_sends_user_jwt(served, new_workspace, site, page):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    update_workspace_settings(ws, {"identity_verification": "required"})
    token = user_jwt(secret, user_id="u1", email="ada@x.io", plan="pro")
    init = {"app_id": ws.app_id, "id": "u1", "user_jwt": token}
    site["html"] = site_page(served, init)
    page.goto(site["url"] + "/")
    deadline = time.monotonic() + 15
    while not Person.objects.filter(workspace=ws, external_id="u1", total_visits=1).exists():
        assert time.monotonic() < deadline, "the snippet's batch was not stored"
        page.wait_for_timeout(200)
    p = Person.objects.get(workspace=ws, external_id="u1")
    assert (p.email, p.custom) == ("ada@x.io", {"plan": "pro"})
    assert p.verified_at is not None
    assert "user_jwt" not in p.custom  # the token is identity, not an attribute
    assert page.probe.console_errors == []
