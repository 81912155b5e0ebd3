"""Downloads are streamed page by page under ASGI, never gathered whole in memory.

Django's ASGI handler reads a synchronous iterator to its end before sending
anything (and warns "must consume synchronous iterators"): for a large export
that is the whole file in memory. The export and the rejected-rows download
hand it asynchronous iterators instead (pavior.web.streaming).
"""

from __future__ import annotations

import csv
import io
import warnings
from typing import Any

import pytest

from pavior.core.attributes import Trust
from pavior.people.actions import upsert_user
from tests.web.conftest import Team

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_three_page_export_is_streamed_whole_and_in_order(signed_in: Any, team: Team) -> None:
    page = signed_in
    for i in range(2100):  # three pages of 1,000
        upsert_user(team.workspace, {"id": f"u{i:05d}", "name": f"User {i}"}, trust=Trust.SECRET)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = page.request.get(f"{page.base}/users/export.csv")
        text = response.body().decode("utf-8-sig")
    assert response.status == 200
    assert response.headers["content-disposition"].startswith('attachment; filename="users-')
    assert not [w for w in caught if "consume synchronous iterators" in str(w.message)]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Id"
    ids = sorted(r[0] for r in rows[1:])
    assert ids == [f"u{i:05d}" for i in range(2100)]
