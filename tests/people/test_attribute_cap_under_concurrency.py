"""The attribute cap holds when many requests create attributes at once."""

import threading

import pytest
from django.db import close_old_connections

from pavior.core.errors import PaviorError
from pavior.people.actions import create_attribute
from pavior.people.models import AttributeDefinition


@pytest.mark.django_db(transaction=True)
def test_cap_holds_under_concurrent_creation(settings):
    from pavior.workspaces.actions import create_workspace

    settings.PAVIOR_MAX_CUSTOM_ATTRIBUTES = 5
    ws = create_workspace("Race").workspace
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def worker(i: int) -> None:
        try:
            start.wait()
            create_attribute(ws, f"attr{i}", "string")
            outcomes.append("created")
        except PaviorError as e:
            outcomes.append(e.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 5
    assert outcomes.count("limit_exceeded") == 7
    assert AttributeDefinition.objects.filter(workspace=ws).count() == 5


@pytest.mark.django_db(transaction=True)
def test_same_name_created_twice_at_once_gives_one_attribute():
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace("Race").workspace
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            create_attribute(ws, "plan", "string")
            outcomes.append("created")
        except PaviorError as e:
            outcomes.append(e.code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 1
    assert set(outcomes) == {"created", "conflict"}
