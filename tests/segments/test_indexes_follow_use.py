"""A custom attribute filtered often in a big-enough workspace gets an index by itself;
deleting the attribute drops it."""

import pytest

from pavior.segments.indexes import expression_indexes


@pytest.fixture
def eager_indexing(settings):
    settings.PAVIOR_INDEX_AFTER_USES = 3
    settings.PAVIOR_INDEX_MIN_USERS = 2
    from django.core.cache import cache

    cache.clear()


def count(api, value):
    r = api.post("/users/count", {"filter": {"attribute": "plan", "op": "eq", "value": value}})
    assert r.status_code == 200
    return r.json()["count"]


def test_index_built_after_enough_uses(
    api, workspace, eager_indexing, django_capture_on_commit_callbacks
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("automatic indexes are a PostgreSQL feature")
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.put("/users/a", {"plan": "pro"})
    api.put("/users/b", {"plan": "free"})
    with django_capture_on_commit_callbacks(execute=True):
        assert count(api, "pro") == 1
        assert count(api, "pro") == 1
    assert expression_indexes(workspace.pk) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert count(api, "free") == 1  # third use: the index is built
    assert len(expression_indexes(workspace.pk)) == 1
    assert count(api, "pro") == 1  # and queries still answer the same

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete("/attributes/plan").status_code == 204
    assert expression_indexes(workspace.pk) == []


def test_small_workspaces_are_not_indexed(
    api, workspace, eager_indexing, settings, django_capture_on_commit_callbacks
):
    settings.PAVIOR_INDEX_MIN_USERS = 1000
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.put("/users/a", {"plan": "pro"})
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            count(api, "pro")
    assert expression_indexes(workspace.pk) == []


def test_sqlite_is_never_indexed_automatically(
    api, workspace, eager_indexing, django_capture_on_commit_callbacks
):
    from django.db import connection

    if connection.vendor == "postgresql":
        pytest.skip("SQLite behaviour")
    api.post("/attributes", {"name": "plan", "type": "string"})
    api.put("/users/a", {"plan": "pro"})
    api.put("/users/b", {"plan": "free"})
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            count(api, "pro")
    assert expression_indexes(workspace.pk) == []
