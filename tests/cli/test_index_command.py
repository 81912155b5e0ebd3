"""`pavior index create` copies a custom attribute's values into the typed side
table, showing progress; counts then come from it, and `drop` removes it."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import AttributeDefinition, IndexedValue
from pavior.segments.queries import count_people
from pavior.segments.saved import parse_workspace_filter
from tests.cli.conftest import cli_env, pavior

pytestmark = pytest.mark.django_db(transaction=True)


def test_index_create_list_and_drop(workspace: Any, tmp_path: Any) -> None:
    create_attribute(workspace, "plan", "string")
    for i in range(5):
        upsert_user(workspace, {"id": f"u{i}", "plan": ["pro", "free"][i % 2]}, trust=Trust.SECRET)
    env = cli_env(tmp_path)
    args = ["--workspace", workspace.app_id]

    r = pavior(["index", "create", "plan", *args], env)
    assert r.returncode == 0, r.stderr
    assert "Copied 5 of 5 users" in r.stdout and "Indexed: plan" in r.stdout
    assert AttributeDefinition.objects.get(name="plan").index_state == "ready"
    assert IndexedValue.objects.count() == 5
    node = parse_workspace_filter(workspace, {"attribute": "plan", "op": "eq", "value": "pro"})
    assert count_people(workspace, node) == 3
    assert "plan (typed copy, ready)" in pavior(["index", "list", *args], env).stdout
    assert "Already indexed" in pavior(["index", "create", "plan", *args], env).stdout

    r = pavior(["index", "drop", "plan", *args], env)
    assert r.returncode == 0, r.stderr
    assert IndexedValue.objects.count() == 0
    assert AttributeDefinition.objects.get(name="plan").index_state == ""
    assert count_people(workspace, node) == 3
