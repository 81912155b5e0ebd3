"""An import that adds most of the users table rebuilds its indexes after the
load (PostgreSQL); the schema, the users and "email contains" come out as
they were, and a cancel part-way leaves everything exactly as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from pavior.imports import actions, rebuild
from pavior.people.models import Person
from tests.imports.conftest import run_import_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def small_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    # A few hundred rows stand for the million: the rule is the same.
    monkeypatch.setattr(rebuild, "MIN_ROWS", 100)


def _schema() -> list[tuple[Any, ...]]:
    """people_person's indexes and constraints as the catalog states them."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'people_person' ORDER BY name"
            )
            return cur.fetchall()
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'people_person' "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) || ' ' || convalidated "
            "FROM pg_constraint WHERE conrelid = 'people_person'::regclass ORDER BY 1, 2"
        )
        return cur.fetchall()


def _people(ws: Any) -> list[tuple[Any, ...]]:
    return list(
        Person.objects.filter(workspace=ws)
        .order_by("external_id")
        .values_list("external_id", "email", "city", "custom", "updated_at")
    )


def _csv(start: int, end: int, plan: str) -> bytes:
    rows = "".join(f"u{i},user{i}@x.io,Paris,{plan}\n" for i in range(start, end))
    return ("id,email,city,plan\n" + rows).encode()


def _uses_trigram_index(term: str) -> bool:
    qs = Person.objects.filter(email__icontains=term)
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")  # the table is tiny
        try:
            sql, params = qs.query.sql_with_params()
            cur.execute("EXPLAIN " + sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
        finally:
            cur.execute("RESET enable_seqscan")
    return "person_email_trgm" in plan


def test_an_import_adding_most_of_the_table_rebuilds_indexes(
    workspace: Any, small_rebuild: None
) -> None:
    before = _schema()
    imp = run_import_bytes(workspace, _csv(0, 400, "pro"), {"plan": "plan:string"})
    assert imp.status == "done", imp.error
    assert imp.result["created"] == 400
    # SQLite maintains its indexes as it goes (no rebuild there).
    assert imp.result["rebuilt_indexes"] is (connection.vendor == "postgresql")
    assert _schema() == before  # same indexes, the foreign key back and validated
    people = Person.objects.filter(workspace=workspace)
    assert people.count() == 400
    assert {p.custom["plan"] for p in people} == {"pro"}
    # The users list's "email contains" finds them, through the rebuilt index.
    found = people.filter(email__icontains="ER17@X")
    assert sorted(found.values_list("external_id", flat=True)) == ["u17"]
    if connection.vendor == "postgresql":
        # (After a re-import the rebuilt index waits until every transaction
        # older than the import has ended: PostgreSQL's indcheckxmin. Here the
        # table held no updated rows, so it serves at once.)
        assert _uses_trigram_index("er17@x")


def test_updates_alone_and_small_additions_keep_the_indexes(
    workspace: Any, small_rebuild: None
) -> None:
    run_import_bytes(workspace, _csv(0, 300, "free"), {"plan": "plan:string"})
    before = _schema()
    # Every user changes, none is added: people stays open to others.
    imp = run_import_bytes(workspace, _csv(0, 300, "team"), {"plan": "plan:string"})
    assert imp.result["updated"] == 300 and imp.result["rebuilt_indexes"] is False
    # 100 new users next to 300: under half the table, the indexes are kept.
    few = run_import_bytes(workspace, _csv(300, 400, "team"), {"plan": "plan:string"})
    assert few.result["created"] == 100 and few.result["rebuilt_indexes"] is False
    # 200 more next to 400: half the table, rebuilt.
    more = run_import_bytes(workspace, _csv(400, 600, "team"), {"plan": "plan:string"})
    assert more.result["created"] == 200
    assert more.result["rebuilt_indexes"] is (connection.vendor == "postgresql")
    assert _schema() == before
    assert Person.objects.filter(workspace=workspace, custom__plan="team").count() == 600


def test_a_cancel_after_the_indexes_went_leaves_everything_as_before(
    workspace: Any, small_rebuild: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_import_bytes(workspace, _csv(0, 50, "free"), {"plan": "plan:string"})
    before, people = _schema(), _people(workspace)
    write = actions.write_progress
    steps: list[str] = []
    during: list[tuple[Any, ...]] = []

    def cancel_while_creating(imp: Any, data: dict[str, Any]) -> None:
        # Someone presses Cancel once users are updated and, on PostgreSQL,
        # the indexes and foreign key are gone: the next step stops.
        write(imp, data)
        steps.append(data.get("step", ""))
        if data.get("step") == "creating users":
            during.extend(_schema())  # inside the import's transaction
            actions.file_path(imp, ".cancel").touch()

    monkeypatch.setattr(actions, "write_progress", cancel_while_creating)
    imp = run_import_bytes(workspace, _csv(0, 400, "pro"), {"plan": "plan:string"})
    assert imp.status == "cancelled"
    assert "creating users" in steps and "rebuilding indexes" not in steps
    if connection.vendor == "postgresql":  # the cancel came with the indexes gone
        assert "person_email_trgm" not in {name for name, _ in during}
    assert _people(workspace) == people
    assert _schema() == before
    assert Person.objects.filter(email__icontains="ER7@X").count() == 1


def test_when_people_is_busy_the_import_keeps_its_indexes(
    workspace: Any, small_rebuild: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction holds people (a tracking write not yet committed):
    the import does not wait for it beyond LOCK_WAIT, nor make everyone wait
    behind it; it runs with the indexes as they are."""
    if connection.vendor != "postgresql":
        pytest.skip("the rebuild is PostgreSQL's")
    import psycopg

    monkeypatch.setattr(rebuild, "LOCK_WAIT", "300ms")
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"]
    )
    try:
        other.execute("LOCK TABLE people_person IN ROW EXCLUSIVE MODE")
        imp = run_import_bytes(workspace, _csv(0, 400, "pro"), {"plan": "plan:string"})
    finally:
        other.rollback()
        other.close()
    assert imp.status == "done", imp.error
    assert imp.result["created"] == 400 and imp.result["rebuilt_indexes"] is False
    assert Person.objects.filter(workspace=workspace, email__icontains="ER17@X").count() == 1
