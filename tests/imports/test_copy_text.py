"""The reader process formats staged rows as PostgreSQL COPY text itself; the
server must read back exactly what psycopg's own row formatting gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pavior.imports.staging import copy_text

pytestmark = pytest.mark.django_db

COLUMNS = (
    "line bigint, ext_id text, v_email text, v_signed_up_at timestamptz, s_name boolean, "
    "patch jsonb"
)
# Every character a cell may hold, the four COPY escapes above all (never NUL:
# PostgreSQL text cannot hold it and the reader refuses such files).
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20)
ROW = st.tuples(
    st.integers(1, 10**12),
    st.one_of(st.none(), TEXT, st.sampled_from(["a\tb", "c\\d", "e\nf", "g\rh", "\\N", ""])),
    st.one_of(st.none(), TEXT),
    st.one_of(
        st.none(),
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ),
    ),
    st.one_of(st.none(), st.booleans()),
    # JSON text as the pipeline makes it: escapes of its own, which COPY escapes again.
    st.one_of(st.none(), TEXT.map(lambda s: json.dumps({"k": s}, ensure_ascii=False))),
)


def _load(rows: list[Any], ours: bool) -> list[Any]:
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS copy_check")
        cur.execute(f"CREATE TEMP TABLE copy_check ({COLUMNS})")
        with cur.cursor.copy("COPY copy_check FROM STDIN") as copy:
            if ours:
                copy.write(copy_text(rows))
            else:
                for row in rows:
                    copy.write_row(row)
        cur.execute("SELECT * FROM copy_check ORDER BY line")
        return cur.fetchall()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(ROW, min_size=1, max_size=30, unique_by=lambda r: r[0]))
def test_copy_text_reads_back_as_write_row(rows: list[Any]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    assert _load(rows, ours=True) == _load(rows, ours=False)
