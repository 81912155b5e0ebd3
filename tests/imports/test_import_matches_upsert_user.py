"""The set-based merge (imports/merge.py) stores exactly what upsert_user stores,
row by row, for any file and any users already there.

A property test: hypothesis makes existing users (with ids, email-only,
unsubscribed, sharing an email) and CSV rows (ids, emails, empty cells, every
custom type, subscription cells) and runs them once through the import and
once through upsert_user(Trust.IMPORT), each in a new workspace, then compares
every stored value of every user. A rule about people added to one side only
fails here.
"""

from __future__ import annotations

import csv
import io
import itertools
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pavior.core.attributes import Trust
from pavior.core.errors import PaviorError
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.workspaces.actions import create_workspace
from tests.imports.conftest import run_import_bytes

HEADER = [
    "id",
    "email",
    "name",
    "first_name",
    "last_name",
    "phone",
    "city",
    "plan",
    "seats",
    "renewal_on",
    "vip",
    "email_subscription",
]
# Few ids and emails, so that rows and users often meet (by id, by email, both).
IDS = ["u1", "u2", "u3"]
EMAILS = ["a@x.io", "b@x.io", "c@x.io"]
CELLS: dict[str, list[str]] = {
    "name": ["Ann Old", "Bo"],
    "first_name": ["Cy", "Di"],
    "last_name": ["Zed", "Young"],
    "phone": ["+331"],
    "city": ["Paris", "Lyon"],
    "plan": ["free", "pro"],
    "seats": ["1", "2.5"],
    "renewal_on": ["2025-01-31", "1700000000"],
    "vip": ["yes", "false"],
    "email_subscription": ["true", "false"],
}
TYPED = {"plan": "string", "seats": "number", "renewal_on": "date", "vip": "boolean"}
_workspaces = itertools.count()


def maybe(values: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(["", *values])


existing_user = st.fixed_dictionaries(
    {
        "id": st.sampled_from([None, *IDS]),
        "email": st.sampled_from([None, *EMAILS]),
        "email_subscription": st.booleans(),
        "plan": st.sampled_from([None, "free", "team"]),
        "seats": st.sampled_from([None, 4]),
        "first_name": st.sampled_from([None, "Eve"]),
        "last_name": st.sampled_from([None, "Old"]),
        "city": st.sampled_from([None, "Oslo"]),
    }
).filter(lambda u: u["id"] or u["email"])

row = st.fixed_dictionaries(
    {
        "id": maybe(IDS),
        "email": maybe(EMAILS),
        **{name: maybe(values) for name, values in CELLS.items()},
    }
)


def _workspace(users: list[dict[str, Any]]) -> Any:
    ws = create_workspace(f"Equivalence {next(_workspaces)}").workspace
    for name, attr_type in TYPED.items():
        create_attribute(ws, name, attr_type)
    for user in users:
        values = {k: v for k, v in user.items() if v is not None}
        try:
            upsert_user(ws, values, trust=Trust.SECRET)
        except PaviorError:
            pass  # e.g. re-subscribing an unsubscribed user: the same on both sides
    return ws


def _state(ws: Any) -> list[dict[str, Any]]:
    skip = {"id", "workspace", "created_at", "updated_at", "first_known_at"}
    fields = [f.name for f in Person._meta.concrete_fields if f.name not in skip]
    return [
        {**{f: getattr(p, f) for f in fields}, "known": p.first_known_at is not None}
        for p in Person.objects.filter(workspace=ws).order_by("external_id")
    ]


def _values(r: dict[str, str], *, empty_clears: bool) -> dict[str, Any]:
    """A CSV row as the API call PUT /users would make of it."""
    values: dict[str, Any] = {}
    for name, cell in r.items():
        if cell.strip():
            values[name] = cell
        elif empty_clears and name not in ("id", "email"):
            values[name] = None  # an empty cell clears; never the identity
    if values.get("email_subscription") == "true":
        # An import never re-subscribes; upsert_user refuses it outright.
        values.pop("email_subscription")
    return values


def _row_by_row(ws: Any, rows: list[dict[str, str]], *, empty_clears: bool) -> list[int | None]:
    """What PUT /users stores, one call per row with the import's trust; the
    user each row wrote (None: refused, and the import rejects that row too)."""
    written: list[int | None] = []
    for r in rows:
        try:
            result = upsert_user(ws, _values(r, empty_clears=empty_clears), trust=Trust.IMPORT)
        except PaviorError:
            written.append(None)
        else:
            written.append(result.person.pk)
    return written


def _matched_before_the_file(ws: Any, rows: list[dict[str, str]], **kw: Any) -> list[Any]:
    """The existing user each row finds on its own (None: a new one), each tried
    against the users as they were before the file and rolled back."""

    class Undo(Exception):
        pass

    found: list[Any] = []
    existing = set(Person.objects.filter(workspace=ws).values_list("pk", flat=True))
    for r in rows:
        try:
            with transaction.atomic():
                pk = upsert_user(ws, _values(r, **kw), trust=Trust.IMPORT).person.pk
                found.append(pk if pk in existing else None)
                raise Undo
        except Undo:
            pass
        except PaviorError:
            found.append("refused")
    return found


def _csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@given(
    users=st.lists(existing_user, max_size=4),
    rows=st.lists(row, min_size=1, max_size=4),
    empty_clears=st.booleans(),
)
def test_import_stores_what_upsert_user_stores(
    db: Any, users: list[dict[str, Any]], rows: list[dict[str, str]], empty_clears: bool
) -> None:
    by_hand = _workspace(users)
    alone = _matched_before_the_file(by_hand, rows, empty_clears=empty_clears)
    written = _row_by_row(by_hand, rows, empty_clears=empty_clears)
    # A file that names one user twice follows the import's own rule (the last
    # row wins: tests below), not a sequence of calls; which rows are one user
    # is what upsert_user decided.
    users_written = [pk for pk in written if pk is not None]
    assume(len(users_written) == len(set(users_written)))
    # The import matches every row against the users as they were before the
    # file; calls one by one see the earlier rows' changes. They differ only
    # when an earlier row moved the id or email a later row is found by (see
    # the xfail test below): those files are left out, the rest must agree.
    initial = {pk for pk in alone if isinstance(pk, int)}
    assume(
        all(
            a == w or (a is None and w not in initial)
            for a, w in zip(alone, written, strict=True)
            if a != "refused"
        )
    )

    imported = _workspace(users)
    imp = run_import_bytes(imported, _csv(rows), empty_clears=empty_clears)
    assert imp.status == "done", imp.error

    assert _state(imported) == _state(by_hand)


def _import(users: list[dict[str, Any]], rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    ws = _workspace(users)
    imp = run_import_bytes(ws, _csv(rows))
    assert imp.status == "done", imp.error
    return _state(ws)


def _row(**cells: str) -> dict[str, str]:
    return {**dict.fromkeys(HEADER, ""), **cells}


EMAIL_ONLY = {"email": "b@x.io", "first_name": "Eve"}


def test_the_same_user_twice_keeps_the_id_an_earlier_row_gave_them(db: Any) -> None:
    # Row by row, the first row upgrades the email-only user to u1 and the
    # second finds u1 by email. The import keeps the last row and that id.
    state = _import(
        [EMAIL_ONLY], [_row(id="u1", email="b@x.io"), _row(email="b@x.io", city="Lyon")]
    )
    assert [(u["external_id"], u["email"], u["city"]) for u in state] == [("u1", "b@x.io", "Lyon")]


def test_a_second_id_for_an_upgraded_email_is_a_new_user(db: Any) -> None:
    # Row by row: u1 upgrades the email-only user; u2 then finds no one keyed
    # by that email and is created.
    state = _import([EMAIL_ONLY], [_row(id="u1", email="b@x.io"), _row(id="u2", email="b@x.io")])
    assert [(u["external_id"], u["first_name"]) for u in state] == [("u1", "Eve"), ("u2", None)]


@pytest.mark.xfail(
    strict=True,
    reason="the merge matches rows against the users as they were before the file",
)
def test_a_row_finds_no_one_by_an_email_an_earlier_row_changed(db: Any) -> None:
    # Row by row: u2's email becomes c, so the next row, found by a@x.io, is a
    # new user. The import finds u2 by the old email and takes it as u2 twice.
    users = [{"id": "u2", "email": "a@x.io"}]
    rows = [_row(id="u2", email="c@x.io"), _row(email="a@x.io", city="Lyon")]
    by_hand = _workspace(users)
    _row_by_row(by_hand, rows, empty_clears=False)
    assert _import(users, rows) == _state(by_hand)
