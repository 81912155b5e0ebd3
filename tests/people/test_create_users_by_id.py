"""New visitors known by an id alone: made in one INSERT, each row the same as
`upsert_user` makes for one id (but the id and the times), their primary keys
filled in; an id that exists already makes the whole call a no-op (the writer
then takes those users one by one)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pavior.core.attributes import Trust
from pavior.people.actions import create_users_by_id, upsert_user
from pavior.people.models import Person

pytestmark = pytest.mark.django_db

APART = {"id", "external_id", "first_known_at", "created_at", "updated_at"}


def _row(person: Person) -> dict[str, Any]:
    return {
        f.attname: getattr(person, f.attname)
        for f in Person._meta.concrete_fields
        if f.attname not in APART
    }


def test_new_visitors_are_one_insert_and_alike_to_one_made_alone(workspace: Any) -> None:
    with CaptureQueriesContext(connection) as queries:
        made = create_users_by_id(workspace, ["v1", "v2", "v3", "v2"], trust=Trust.BROWSER)
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1 and "people_person" in inserts[0]
    assert sorted(made) == ["v1", "v2", "v3"]
    alone = upsert_user(workspace, {"id": "alone"}, trust=Trust.BROWSER).person
    stored = {p.external_id: p for p in Person.objects.filter(workspace=workspace)}
    for user_id, person in made.items():
        assert person.pk == stored[user_id].pk
        assert _row(stored[user_id]) == _row(stored["alone"])
        assert stored[user_id].first_known_at is not None
        assert stored[user_id].created_at is not None and stored[user_id].updated_at is not None
    assert _row(alone) == _row(stored["alone"])


def test_an_id_made_meanwhile_makes_none(workspace: Any) -> None:
    upsert_user(workspace, {"id": "v2"}, trust=Trust.BROWSER)
    assert create_users_by_id(workspace, ["v1", "v2"], trust=Trust.BROWSER) == {}
    assert list(Person.objects.values_list("external_id", flat=True)) == ["v2"]
