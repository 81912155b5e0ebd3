"""user_hash (SPEC §6): verified identification, optional and required modes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pavior.cli import main
from pavior.core.identity import user_hash
from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import create_identity_secret, update_workspace_settings
from pavior.workspaces.models import IdentitySecret
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, post_batch

pytestmark = pytest.mark.django_db(transaction=True)


def _init(served, ws, user, attrs=None):
    return post_batch(
        served, ws.app_id, user, [event("init", T0, attributes=attrs or {})], sent_at=T0
    )


def test_a_valid_hash_verifies_and_sets_signed_up_at_once(served, new_workspace, fake_clock):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    r = _init(served, ws, {"id": "u1", "user_hash": user_hash(secret, "u1")})
    assert r.json()["verified"] is True
    assert Person.objects.get(external_id="u1").signed_up_at == T0
    fake_clock.advance(3600)
    post_batch(
        served,
        ws.app_id,
        {"id": "u1", "user_hash": user_hash(secret, "u1")},
        [event("init")],
        sent_at=fake_clock.now(),
    )
    assert Person.objects.get(external_id="u1").signed_up_at == T0


def test_any_active_secret_verifies_and_a_revoked_one_does_not(served, new_workspace, fake_clock):
    ws = new_workspace.workspace
    second, row = create_identity_secret(ws)
    assert _init(served, ws, {"id": "a", "user_hash": user_hash(second, "a")}).json()["verified"]
    row.delete()
    r = _init(served, ws, {"id": "b", "user_hash": user_hash(second, "b")})
    assert r.json()["verified"] is False


def test_the_email_is_hashed_when_there_is_no_id(served, new_workspace, fake_clock):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    r = _init(served, ws, {"email": "a@x.io", "user_hash": user_hash(secret, "a@x.io")})
    assert r.json()["verified"] is True


def test_optional_mode_tracks_unverified_calls_without_privileges(served, workspace, fake_clock):
    _init(served, workspace, {"id": "u1", "email": "old@x.io"})
    r = _init(served, workspace, {"id": "u1", "email": "new@x.io", "user_hash": "0" * 64})
    body = r.json()
    assert r.status_code == 200 and body["verified"] is False
    assert [e["field"] for e in body["errors"]] == ["email"]
    p = Person.objects.get(external_id="u1")
    assert (p.email, p.signed_up_at, p.total_visits) == ("old@x.io", None, 1)


def test_required_mode_refuses_an_unverified_call_and_writes_nothing(served, workspace, fake_clock):
    update_workspace_settings(workspace, {"identity_verification": "required"})
    for user in ({"id": "u1"}, {"id": "u1", "user_hash": "f" * 64}):
        r = _init(served, workspace, user, {"plan": "pro"})
        assert r.status_code == 403
        assert error_of(r)["code"] == "identity_verification_failed"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert not Person.objects.exists() and not RawEvent.objects.exists()


def test_off_mode_ignores_hashes(served, new_workspace, fake_clock):
    ws, secret = new_workspace.workspace, new_workspace.identity_secret
    update_workspace_settings(ws, {"identity_verification": "off"})
    r = _init(served, ws, {"id": "u1", "user_hash": user_hash(secret, "u1")})
    assert r.json()["verified"] is False
    assert Person.objects.get(external_id="u1").signed_up_at is None


def test_identity_secret_cli(workspace):
    run = CliRunner()
    out = run.invoke(main, ["identity-secret", "create", "--workspace", workspace.app_id, "--json"])
    assert out.exit_code == 0, out.output
    import json

    created = json.loads(out.output)
    assert len(created["secret"]) == 64
    listed = run.invoke(main, ["identity-secret", "list", "--workspace", workspace.app_id])
    assert created["secret"][:6] in listed.output
    assert created["secret"] not in listed.output
    out = run.invoke(
        main, ["identity-secret", "revoke", str(created["id"]), "--workspace", workspace.app_id]
    )
    assert out.exit_code == 0
    assert not IdentitySecret.objects.filter(pk=created["id"]).exists()
    out = run.invoke(main, ["identity-secret", "revoke", "999999", "--workspace", workspace.app_id])
    assert out.exit_code == 2 and "No identity secret" in out.output
