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

from hypothesis import HealthCheck, given, settings
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
IDS = ["u1", "u2"]
EMAILS = ["a@x.io", "b@x.io"]
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


def _last_row_per_user(users: list[dict[str, Any]], rows: list[dict[str, str]], **kw: Any) -> Any:
    """The file's rule for the same user twice (docs/import.md): the last row wins.
    Which rows are "the same user" is decided by upsert_user itself, in a
    workspace of its own; then only each user's last row is applied."""
    probe = _workspace(users)
    written = _row_by_row(probe, rows, **kw)
    final_id = dict(Person.objects.filter(workspace=probe).values_list("pk", "external_id"))
    kept = []
    for i, r in enumerate(rows):
        if written[i] is None:
            kept.append(r)
        elif written[i] not in written[i + 1 :]:
            # The user keeps the id an earlier row of theirs gave them.
            kept.append({**r, "id": r["id"] or final_id[written[i]]})
    by_hand = _workspace(users)
    _row_by_row(by_hand, kept, **kw)
    return by_hand


def _csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    users=st.lists(existing_user, max_size=4),
    rows=st.lists(row, min_size=1, max_size=4),
    empty_clears=st.booleans(),
)
def test_import_stores_what_upsert_user_stores(
    db: Any, users: list[dict[str, Any]], rows: list[dict[str, str]], empty_clears: bool
) -> None:
    imported = _workspace(users)
    imp = run_import_bytes(imported, _csv(rows), empty_clears=empty_clears)
    assert imp.status == "done", imp.error

    by_hand = _last_row_per_user(users, rows, empty_clears=empty_clears)

    assert _state(imported) == _state(by_hand)
