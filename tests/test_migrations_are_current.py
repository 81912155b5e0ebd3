"""Models and migrations never drift (CI fails if a migration is missing)."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as e:
        pytest.fail(f"Missing migrations:\n{out.getvalue()}\n(exit {e.code})")
