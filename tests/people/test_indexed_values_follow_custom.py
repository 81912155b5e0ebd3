"""The typed side table (people.IndexedValue) says what `custom` says, after every
kind of write: REST upserts, the tracking intake, a CSV import, an attribute's
delete, a user's erase, and an attribute indexed after its values were written
(the backfill).

Each write goes through the served application (uvicorn) or the import's own
pipeline, so the database triggers are what keeps the copy in step; the check
reads both tables and compares every user's every indexed value.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pavior.people.indexed import backfill, mark_indexed, unmark_indexed
from pavior.people.models import AttributeDefinition, IndexedValue, Person
from pavior.segments.queries import count_people
from pavior.segments.saved import parse_workspace_filter
from tests.imports.conftest import run_import_bytes
from tests.tracking.conftest import T0, event, post_batch

pytestmark = pytest.mark.django_db(transaction=True)

TYPES = {"plan": "string", "seats": "number", "renewal_at": "date", "vip": "boolean"}


def expected(workspace: Any) -> set[tuple[str, str, Any, Any]]:
    """(user, attribute, value_text, value_number) from the JSON documents."""
    indexed = dict(
        AttributeDefinition.objects.filter(workspace=workspace)
        .exclude(index_state="")
        .values_list("name", "type")
    )
    rows = set()
    for external_id, custom in Person.objects.filter(workspace=workspace).values_list(
        "external_id", "custom"
    ):
        for name, kind in indexed.items():
            value = (custom or {}).get(name)
            if value is None:
                continue
            if kind == "string":
                rows.add((external_id, name, value, None))
            else:
                rows.add((external_id, name, None, float(value)))
    return rows


def copied(workspace: Any) -> set[tuple[str, str, Any, Any]]:
    ids = dict(Person.objects.filter(workspace=workspace).values_list("pk", "external_id"))
    names = dict(AttributeDefinition.objects.filter(workspace=workspace).values_list("pk", "name"))
    rows = set()
    for person_id, attribute_id, text, number in IndexedValue.objects.values_list(
        "person_id", "attribute_id", "value_text", "value_number"
    ):
        # A row of a user or attribute that no longer exists is a leak: fail on it.
        assert person_id in ids, f"row of a deleted user {person_id}"
        assert attribute_id in names, f"row of a deleted attribute {attribute_id}"
        rows.add((ids[person_id], names[attribute_id], text, number))
    return rows


def assert_in_step(workspace: Any) -> set[tuple[str, str, Any, Any]]:
    want = expected(workspace)
    assert copied(workspace) == want
    return want


def index_all(workspace: Any) -> None:
    for name in TYPES:
        pk = mark_indexed(workspace.pk, name)
        if pk is not None:
            backfill(pk)


@pytest.fixture
def typed(workspace: Any) -> Any:
    from pavior.people.actions import create_attribute

    for name, kind in TYPES.items():
        create_attribute(workspace, name, kind)
    index_all(workspace)
    return workspace


def rest(served: Any, key: str, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{served.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        content=None if body is None else json.dumps(body),
        timeout=30,
    )


def test_rest_writes_and_erase(served: Any, new_workspace: Any, typed: Any) -> None:
    key = new_workspace.api_key
    r = rest(served, key, "PUT", "/users/u1", {"plan": "pro", "seats": 3, "vip": True})
    assert r.status_code == 201, r.text
    rest(served, key, "PUT", "/users/u2", {"plan": "free", "renewal_at": "2025-01-31"})
    rest(served, key, "POST", "/users", {"id": "u3", "seats": 2.5, "vip": False})
    assert len(assert_in_step(typed)) == 7
    # Change, clear (null), and leave alone (a write of built-ins only).
    rest(served, key, "PUT", "/users/u1", {"plan": "team", "seats": None})
    rest(served, key, "PUT", "/users/u2", {"name": "Bo"})
    assert ("u1", "plan", "team", None) in assert_in_step(typed)
    assert rest(served, key, "DELETE", "/users/u3").status_code == 204
    rows = assert_in_step(typed)
    assert not any(user == "u3" for user, *_ in rows)


def test_tracking_intake(served: Any, typed: Any) -> None:
    attrs = {"plan": "pro", "seats": 4, "vip": True, "renewal_at": 1714564800}
    r = post_batch(
        served, typed.app_id, {"id": "t1"}, [event("init", T0, attributes=attrs)], sent_at=T0
    )
    assert r.status_code == 200 and r.json()["errors"] == [], r.text
    post_batch(
        served,
        typed.app_id,
        {"id": "t1"},
        [event("update", T0, attributes={"plan": None, "seats": 5})],
        sent_at=T0,
    )
    post_batch(served, typed.app_id, {"id": "t2"}, [event("page", T0)], sent_at=T0)
    rows = assert_in_step(typed)
    assert ("t1", "seats", None, 5.0) in rows
    assert not any(name == "plan" for _, name, *_ in rows)


CSV_NEW = b"id,plan,seats,renewal_at,vip\ni1,pro,3,2025-01-31,yes\ni2,,7,,no\ni3,free,,,\n"
CSV_AGAIN = b"id,plan,seats,vip\ni1,team,,false\ni2,pro,8,\ni4,free,1,yes\n"


@pytest.mark.parametrize("empty_clears", [False, True])
def test_csv_import_new_and_merged_users(typed: Any, empty_clears: bool) -> None:
    run_import_bytes(typed, CSV_NEW)
    assert len(assert_in_step(typed)) == 7
    run_import_bytes(typed, CSV_AGAIN, empty_clears=empty_clears)
    rows = assert_in_step(typed)
    assert ("i1", "plan", "team", None) in rows
    assert (("i1", "seats", None, 3.0) in rows) is not empty_clears


def test_attribute_delete_and_unindex(served: Any, new_workspace: Any, typed: Any) -> None:
    key = new_workspace.api_key
    for i in range(3):
        rest(served, key, "PUT", f"/users/d{i}", {"plan": "pro", "seats": i, "vip": i == 1})
    assert rest(served, key, "DELETE", "/attributes/seats").status_code == 204
    rows = assert_in_step(typed)
    assert not any(name == "seats" for _, name, *_ in rows)
    assert unmark_indexed(typed.pk, "vip")
    rows = assert_in_step(typed)
    assert {name for _, name, *_ in rows} == {"plan"}


def test_backfill_of_values_written_before(served: Any, new_workspace: Any) -> None:
    """An attribute indexed after its values were written: the backfill copies
    them, and queries switch to the copy only once it is complete."""
    from pavior.people.actions import create_attribute

    workspace = new_workspace.workspace
    for name, kind in TYPES.items():
        create_attribute(workspace, name, kind)
    key = new_workspace.api_key
    for i in range(5):
        body = {"plan": ["pro", "free"][i % 2], "seats": i, "renewal_at": 1_700_000_000 + i}
        rest(served, key, "PUT", f"/users/b{i}", body)
    pk = mark_indexed(workspace.pk, "plan")
    assert pk is not None
    # Marked but not backfilled: a write now is copied by the trigger...
    rest(served, key, "PUT", "/users/b0", {"plan": "team"})
    assert copied(workspace) == {("b0", "plan", "team", None)}
    # ...and filters still read the JSON, so they stay right meanwhile.
    node = parse_workspace_filter(workspace, {"attribute": "plan", "op": "eq", "value": "free"})
    assert count_people(workspace, node) == 2
    assert backfill(pk, batch=2) == 5
    assert AttributeDefinition.objects.get(pk=pk).index_state == "ready"
    assert len(assert_in_step(workspace)) == 5
    assert count_people(workspace, node) == 2
    assert mark_indexed(workspace.pk, "plan") is None  # ready already


def test_triggers_come_back_after_a_migrate_that_lost_them(typed: Any) -> None:
    """SQLite drops a table's triggers when a migration remakes the table; every
    migrate puts them back (post_migrate), so writes never go uncopied."""
    from django.core.management import call_command
    from django.db import connection

    from pavior.people.indexed import ensure_triggers

    assert not ensure_triggers(connection)  # all there after the test database's migrate
    with connection.cursor() as cur:
        on = " ON people_person" if connection.vendor == "postgresql" else ""
        cur.execute(f"DROP TRIGGER people_indexed_update{on}")
    call_command("migrate", verbosity=0)
    Person.objects.create(workspace=typed, external_id="m1", custom={"plan": "pro"})
    Person.objects.filter(external_id="m1").update(custom={"plan": "team"})
    assert copied(typed) == {("m1", "plan", "team", None)}


def test_triggers_exist_only_while_an_attribute_is_indexed(typed: Any) -> None:
    """Nothing indexed: no triggers, so writes to people pay nothing for the copy."""
    from django.db import connection

    from pavior.people.indexed import ensure_triggers

    for name in TYPES:
        unmark_indexed(typed.pk, name)
    assert not ensure_triggers(connection)  # nothing indexed: nothing to create
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'people_indexed%'")
        else:
            cur.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'people_indexed%'"
            )
        assert cur.fetchone()[0] == 0
    Person.objects.create(workspace=typed, external_id="n1", custom={"plan": "pro"})
    assert mark_indexed(typed.pk, "plan") is not None  # creates them again
    Person.objects.create(workspace=typed, external_id="n2", custom={"plan": "team"})
    assert copied(typed) == {("n2", "plan", "team", None)}
