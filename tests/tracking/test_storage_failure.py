"""When storage fails the intake answers 503 with Retry-After, never 200, and a
retry after recovery stores the batch exactly once."""

from __future__ import annotations

import pytest
from django.db import connection

from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from tests.conftest import error_of
from tests.tracking.conftest import T0, event, post_batch

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = RawEvent._meta.db_table


def _break_storage() -> None:
    """A real database error on every insert into the raw events table."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE FUNCTION pavior_test_fail() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'storage is down'; END $$ LANGUAGE plpgsql"
            )
            cur.execute(
                f"CREATE TRIGGER pavior_test_fail BEFORE INSERT ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION pavior_test_fail()"
            )
        else:
            cur.execute(
                f"CREATE TRIGGER pavior_test_fail BEFORE INSERT ON {TABLE} "
                "BEGIN SELECT RAISE(ABORT, 'storage is down'); END"
            )


def _repair_storage() -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DROP TRIGGER pavior_test_fail ON {TABLE}")
            cur.execute("DROP FUNCTION pavior_test_fail()")
        else:
            cur.execute("DROP TRIGGER pavior_test_fail")


def test_a_storage_failure_is_503_and_the_retry_is_stored_once(served, workspace, fake_clock):
    events = [event("init", T0, attributes={"plan": "pro"}), event("page", T0)]
    _break_storage()
    r = post_batch(served, workspace.app_id, {"id": "u1"}, events, sent_at=T0)
    assert r.status_code == 503
    assert r.headers["Retry-After"].isdigit()
    assert error_of(r)["code"] == "unavailable"
    assert not Person.objects.exists()  # nothing half-written: the user neither
    _repair_storage()
    for _ in range(2):
        r = post_batch(served, workspace.app_id, {"id": "u1"}, events, sent_at=T0)
        assert r.status_code == 200
    assert RawEvent.objects.count() == 2
    p = Person.objects.get(external_id="u1")
    assert (p.total_visits, p.custom) == (1, {"plan": "pro"})
