"""Many first writes for the same new user at once make one user, never an error."""

import threading

import pytest
from django.db import close_old_connections

from pavior.core.attributes import Trust
from pavior.people.actions import upsert_user
from pavior.people.models import Person


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_user():
    from pavior.workspaces.actions import create_workspace

    ws = create_workspace("Race").workspace
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            start.wait()
            upsert_user(ws, {"id": "same", "phone": str(i)}, trust=Trust.SECRET)
        except BaseException as e:  # noqa: BLE001 - any failure fails the test
            errors.append(e)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Person.objects.filter(workspace=ws, external_id="same").count() == 1
