"""The `pavior` command, run as a user would: a separate process on a fresh data dir."""

import json
import os
import subprocess
import sys

import pytest


def run(args, data_dir, stdin=None):
    env = {**os.environ, "PAVIOR_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "pavior.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def data_dir(tmp_path):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("runs on its own SQLite data dir; the API tests cover PostgreSQL")
    r = run(["manage", "migrate", "-v", "0"], tmp_path)
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_workspace_create_json_prints_exactly_the_keys(data_dir):
    r = run(["workspace", "create", "Acme", "--json"], data_dir)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) == {"app_id", "api_key", "identity_secret"}
    assert len(data["identity_secret"]) == 64
    listed = run(["workspace", "list", "--json"], data_dir)
    assert json.loads(listed.stdout) == [{"name": "Acme", "app_id": data["app_id"]}]


def test_workspace_create_refuses_an_empty_name(data_dir):
    r = run(["workspace", "create", "  "], data_dir)
    assert r.returncode != 0
    assert "name" in r.stderr


def test_create_admin_from_stdin_then_sign_in(data_dir):
    r = run(
        ["user", "create-admin", "Ann@Example.com", "--password-stdin"],
        data_dir,
        stdin="correct horse battery\n",
    )
    assert r.returncode == 0, r.stderr
    r = run(
        ["user", "create-admin", "ann@example.com", "--password-stdin"],
        data_dir,
        stdin="correct horse battery\n",
    )
    assert r.returncode != 0 and "already exists" in r.stderr
    r = run(
        ["user", "create-admin", "bob@example.com", "--password-stdin"], data_dir, stdin="123\n"
    )
    assert r.returncode != 0 and "password" in r.stderr.lower()
    check = run(
        [
            "manage",
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            "u = User.objects.get(username='ann@example.com');"
            "print(u.check_password('correct horse battery'), u.is_staff)",
        ],
        data_dir,
    )
    assert check.stdout.strip().endswith("True True"), check.stderr
