"""A new install gets planner statistics (nothing else would run ANALYZE on
SQLite, and PostgreSQL's autovacuum waits for enough changes): refresh() gives
the people table statistics once it has rows, on both engines; the worker
repeats it (pavior.db_statistics.start_refreshing)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from pavior import db_statistics
from pavior.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = Person._meta.db_table


def forget_statistics() -> None:
    """As on a new install: earlier tests may have analyzed this test database."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cur.fetchone() is not None:
                cur.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s", [TABLE])
        else:
            cur.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [TABLE])
            cur.execute("SELECT pg_stat_reset_single_table_counters(%s::regclass)", [TABLE])


def has_statistics() -> bool:
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cur.fetchone() is None:
                return False
            cur.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = %s", [TABLE])
        else:
            cur.execute(
                "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename = %s",
                [TABLE],
            )
        return cur.fetchone()[0] > 0


def test_a_filled_new_table_gets_statistics(workspace: Any) -> None:
    Person.objects.bulk_create(
        [Person(workspace=workspace, external_id=f"u{i}") for i in range(500)]
    )
    forget_statistics()
    assert not has_statistics()
    db_statistics.refresh()
    assert has_statistics()


def test_the_worker_refreshes_in_the_background(workspace: Any) -> None:
    import time

    Person.objects.bulk_create(
        [Person(workspace=workspace, external_id=f"u{i}") for i in range(500)]
    )
    forget_statistics()
    db_statistics.start_refreshing(every=3600)  # its first refresh is at once
    deadline = time.monotonic() + 20
    while not has_statistics() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert has_statistics()


def test_a_table_analyzed_empty_and_filled_since_is_analyzed_again(workspace: Any) -> None:
    """PostgreSQL: `serve` analyzes the empty tables of a new install at start;
    once they fill, the planner must not keep planning them as empty."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's refresh analyzes every table each time")
    with connection.cursor() as cur:
        cur.execute(f"ANALYZE {TABLE}")
    Person.objects.bulk_create(
        [Person(workspace=workspace, external_id=f"u{i}") for i in range(3000)]
    )
    import time

    # PostgreSQL counts the changes a moment after they commit (its statistics
    # are flushed about once a second): the worker's next refresh sees them.
    deadline = time.monotonic() + 10
    rows = 0.0
    while rows < 3000 and time.monotonic() < deadline:
        db_statistics.refresh()
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [TABLE])
            rows = cur.fetchone()[0]
        time.sleep(0.2)
    assert rows >= 3000
