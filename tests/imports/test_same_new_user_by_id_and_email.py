"""A new user named once by email only and once by id and that email is one user."""

from __future__ import annotations

from typing import Any

import pytest

from pavior.people.models import Person


@pytest.mark.parametrize(
    "body",
    [
        "id,email,city\n,ann@x.io,\nann-1,ann@x.io,Oslo\n",  # email-only row first
        "id,email,city\nann-1,ann@x.io,\n,ann@x.io,Oslo\n",  # id row first
    ],
)
def test_one_user_with_the_id(db: Any, workspace: Any, run_csv: Any, body: str) -> None:
    imp = run_csv(body)
    assert imp.status == "done", imp.error
    people = list(Person.objects.filter(workspace=workspace))
    assert [(p.external_id, p.email, p.city) for p in people] == [("ann-1", "ann@x.io", "Oslo")]
    assert imp.result["created"] == 1
    assert imp.result["duplicates"] == 1


def test_an_existing_user_keeps_its_own_row(db: Any, workspace: Any, run_csv: Any) -> None:
    # The email-only row matches the stored user; the id row creates another.
    run_csv("id,email\nold,bob@x.io\n")
    imp = run_csv("id,email,city\n,bob@x.io,Rome\nbob-2,bob@x.io,Lima\n")
    assert imp.status == "done", imp.error
    got = {p.external_id: p.city for p in Person.objects.filter(workspace=workspace)}
    assert got == {"old": "Rome", "bob-2": "Lima"}
