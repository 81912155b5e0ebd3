"""With "empty cells clear", an empty cell clears its value, but never the email."""

from __future__ import annotations

from typing import Any

from pavior.people.models import Person


def test_clear_mode_keeps_the_email(db: Any, workspace: Any, run_csv: Any) -> None:
    run_csv("id,email,phone\nu1,u1@x.io,+331\n")
    imp = run_csv("id,email,phone\nu1,,\n", empty_clears=True)
    assert imp.status == "done", imp.error
    u1 = Person.objects.get(workspace=workspace, external_id="u1")
    assert u1.email == "u1@x.io"
    assert u1.phone is None
