"""Inserting many new users that differ in a column or two, in one statement.

`QuerySet.bulk_create` prepares every value of every row through the ORM's
compiler (field by field: pre_save, get_db_prep_save, placeholders), which
was most of the cost of a tracking flush's new visitors (about 100 µs a user,
against a few µs for the INSERT itself). New visitors made by id alone are
alike but for their id, so each column is prepared once and reused by every
row whose value is the same as the first's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

from pavior.people.models import Person

# Rows per statement: ~20 columns each stays far below SQLite's 32,766 parameters.
CHUNK = 500


def insert_people(people: Sequence[Person]) -> None:
    """INSERT these unsaved Person rows (as bulk_create would: auto_now times
    set, primary keys filled in from RETURNING); run inside a transaction."""
    if not people:
        return
    fields: list[models.Field[Any, Any]] = [
        f for f in Person._meta.concrete_fields if not f.primary_key
    ]
    now = timezone.now()
    for person in people:  # what bulk_create's pre_save does for auto_now(_add)
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                setattr(person, f.attname, now)
    first = people[0]
    template = [f.get_db_prep_save(getattr(first, f.attname), connection) for f in fields]
    rows: list[list[Any]] = []
    for person in people:
        row = list(template)
        for i, f in enumerate(fields):
            value = getattr(person, f.attname)
            if person is not first and value != getattr(first, f.attname):
                row[i] = f.get_db_prep_save(value, connection)
        rows.append(row)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cur:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            cur.execute(
                f"INSERT INTO {Person._meta.db_table} ({columns}) "
                f"VALUES {', '.join([one] * len(chunk))} RETURNING id",
                [value for row in chunk for value in row],
            )
            for person, (pk,) in zip(people[start : start + CHUNK], cur.fetchall(), strict=True):
                person.pk = pk
                person._state.adding = False
                person._state.db = connection.alias
