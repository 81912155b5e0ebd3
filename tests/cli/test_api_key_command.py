"""`pavior api-key create|list|revoke`: a key made on the command line works on the
REST API, is listed without its secret, and stops working once revoked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli.conftest import cli_env, pavior

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_list_revoke(tmp_path: Any, client: Any) -> None:
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace("Acme").workspace
    env = cli_env(tmp_path)
    made = pavior(["api-key", "create", "--workspace", ws.app_id, "--name", "CI", "--json"], env)
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    assert set(created) == {"id", "name", "api_key"} and created["name"] == "CI"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {created['api_key']}"}
    assert client.get("/api/v1/attributes", **auth).status_code == 200

    listed = pavior(["api-key", "list", "--workspace", ws.app_id, "--json"], env)
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["default", "CI"]
    assert created["api_key"] not in listed.stdout
    ci = rows[1]
    assert ci["prefix"] == created["api_key"][:10] and ci["last_used_at"] is not None
    assert rows[0]["last_used_at"] is None

    text = pavior(["api-key", "list", "--workspace", ws.app_id], env)
    assert "CI" in text.stdout and "never" in text.stdout

    gone = pavior(
        ["api-key", "revoke", str(created["id"]), "--workspace", ws.app_id, "--json"], env
    )
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout) == {"id": created["id"], "name": "CI", "revoked": True}
    assert client.get("/api/v1/attributes", **auth).status_code == 401


def test_bad_input_is_one_line_and_exit_2(tmp_path: Any) -> None:
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace("Acme").workspace
    other = create_workspace("Other").workspace
    env = cli_env(tmp_path)
    foreign = other.api_keys.get().pk
    for args, says in [
        (["api-key", "create", "--workspace", "app_nope"], "No workspace with app_id app_nope"),
        (["api-key", "create", "--workspace", ws.app_id, "--name", " "], "1 to 100 characters"),
        (
            ["api-key", "revoke", str(foreign), "--workspace", ws.app_id],
            f"No API key with id {foreign}",
        ),
    ]:
        r = pavior(args, env)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert says in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert other.api_keys.filter(pk=foreign).exists()
