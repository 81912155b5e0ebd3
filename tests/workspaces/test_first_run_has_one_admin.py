"""Two (or eight) browsers submitting the first-run setup form at once: exactly
one becomes the admin, the others are told Pavior is already set up. On
PostgreSQL too, where checking that no team member exists locks nothing."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from pavior.workspaces.actions import AlreadySetUp, set_up_first_admin
from pavior.workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 8


def test_racing_first_runs_make_exactly_one_admin_and_one_workspace() -> None:
    start = threading.Barrier(RACERS)
    outcomes: list[Any] = []

    def race(i: int) -> None:
        try:
            start.wait()
            set_up_first_admin(f"racer{i}@example.com", "a long passphrase", f"Racer {i}")
            outcomes.append(i)
        except AlreadySetUp as e:
            outcomes.append(e.code)
        except Exception as e:  # noqa: BLE001 - any other end is a failure shown below
            outcomes.append(repr(e))
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [o for o in outcomes if isinstance(o, int)]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, int)) == ["already_set_up"] * (
        RACERS - 1
    )
    admin = get_user_model().objects.get()
    assert admin.username == f"racer{winners[0]}@example.com" and admin.is_staff
    assert list(Workspace.objects.values_list("name", flat=True)) == [f"Racer {winners[0]}"]


def test_once_set_up_the_setup_is_refused() -> None:
    set_up_first_admin("first@example.com", "a long passphrase", "Acme")
    with pytest.raises(AlreadySetUp):
        set_up_first_admin("second@example.com", "a long passphrase", "Other")
    assert get_user_model().objects.count() == 1 and Workspace.objects.count() == 1


def test_a_refused_password_leaves_no_workspace_behind() -> None:
    with pytest.raises(Exception, match="too short"):
        set_up_first_admin("first@example.com", "short", "Acme")
    assert not Workspace.objects.exists() and not get_user_model().objects.exists()
