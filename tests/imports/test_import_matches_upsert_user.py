"""The set-based merge stores exactly what upsert_user stores for the same rows."""

from __future__ import annotations

import csv
import io
from typing import Any

from pavior.core.attributes import Trust
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.models import Person
from pavior.workspaces.actions import create_workspace

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
    "first_known_at",
]
EXISTING = [
    {"id": "u1", "email": "u1@x.io", "name": "Ann Old", "plan": "free", "seats": 1},
    {"email": "mail-only@x.io", "name": "Mo Mail"},  # keyed by email: upgraded by id below
    {"id": "u3", "email": "u3@x.io", "email_subscription": False, "first_name": "Cy"},
    {"id": "u4", "email": "u4@x.io", "plan": "pro", "vip": True},
]
ROWS = [
    [
        "u1",
        "u1@x.io",
        "Ann New Name",
        "",
        "",
        "+331",
        "Paris",
        "pro",
        "3",
        "2025-01-31",
        "yes",
        "",
        "",
    ],
    ["u2", "u2@x.io", "", "Bo", "Diddley", "", "", "", "2.5", "", "no", "false", "2020-05-01"],
    ["m9", "mail-only@x.io", "", "", "", "", "Lyon", "team", "", "", "", "", ""],
    ["u3", "", "", "", "Zed", "", "", "", "", "", "", "true", ""],
    ["u4", "u4@x.io", "", "", "", "", "", "pro", "", "", "true", "", ""],
    ["", "new-mail@x.io", "Solo", "", "", "", "", "", "7", "", "", "", ""],
    # A new user named by email only, then by id and that email: one user, p1.
    ["", "pair@x.io", "", "", "", "", "", "", "", "", "", "", ""],
    ["p1", "pair@x.io", "Pat Pair", "", "", "", "Oslo", "team", "", "", "", "", ""],
]


def _setup(name: str) -> Any:
    ws = create_workspace(name).workspace
    create_attribute(ws, "plan", "string")
    create_attribute(ws, "seats", "number")
    create_attribute(ws, "renewal_on", "date")
    create_attribute(ws, "vip", "boolean")
    for values in EXISTING:
        upsert_user(ws, values, trust=Trust.SECRET)
    return ws


def _state(ws: Any) -> list[tuple[Any, ...]]:
    skip = {"id", "workspace", "created_at", "updated_at", "first_known_at"}
    fields = [f.name for f in Person._meta.concrete_fields if f.name not in skip]
    out = []
    for p in Person.objects.filter(workspace=ws).order_by("external_id"):
        out.append(tuple(getattr(p, f) for f in fields) + (p.first_known_at is not None,))
    return out


def test_bulk_merge_equals_per_row_upsert(db: Any, run_csv: Any) -> None:
    from tests.imports.conftest import run_import_bytes

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(ROWS)

    bulk_ws = _setup("Bulk")
    imp = run_import_bytes(bulk_ws, buf.getvalue().encode())
    assert imp.status == "done", imp.error
    assert imp.result["created"] == 3
    assert imp.result["duplicates"] == 1  # the email-only row and p1 are one user
    assert imp.result["subscription_kept"] == 1  # u3 asked for true and stays unsubscribed
    assert imp.result["updated"] == 3
    assert imp.result["unchanged"] == 1  # u4: same plan and vip

    slow_ws = _setup("Slow")
    for row in ROWS:
        values = {h: v for h, v in zip(HEADER, row, strict=True) if v.strip()}
        if values.get("email_subscription") == "true":
            values.pop("email_subscription")  # an import never resubscribes; upsert refuses it
        upsert_user(slow_ws, values, trust=Trust.IMPORT)

    assert _state(bulk_ws) == _state(slow_ws)
    u3 = Person.objects.get(workspace=bulk_ws, external_id="u3")
    assert u3.email_subscription is False
    assert u3.name == "Cy Zed"
    m9 = Person.objects.get(workspace=bulk_ws, external_id="m9")
    assert m9.email == "mail-only@x.io" and m9.city == "Lyon"
    u2 = Person.objects.get(workspace=bulk_ws, external_id="u2")
    assert u2.first_known_at.year == 2020 and u2.name == "Bo Diddley"
    p1 = Person.objects.get(workspace=bulk_ws, external_id="p1")
    assert p1.email == "pair@x.io" and p1.name == "Pat Pair"
    assert not Person.objects.filter(workspace=bulk_ws, external_id="pair@x.io").exists()
