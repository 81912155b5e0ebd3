"""Expression indexes on custom attributes: created safely, used by the real queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from tests.conftest import error_of

from pavior.core.attributes import AttrType, Trust
from pavior.core.errors import InvalidFilter, UnknownAttribute
from pavior.core.filters import parse_filter, parse_sort
from pavior.people.actions import create_attribute, upsert_user
from pavior.people.queries import attribute_lookup
from pavior.segments.indexes import (
    custom_value_sql,
    ensure_expression_index,
    expression_indexes,
    index_name,
)
from pavior.segments.queries import CustomValue, count_people, filtered_people, search_people
from pavior.workspaces.actions import create_workspace

HOSTILE = "a') OR 1=1--"
# Valid, but everything a careless quoting would trip on: mixed case, digits,
# leading underscore, doubled underscores, the 64-character maximum.
WEIRD = "_Plan__Tier_" + "x9" * 26


def plan_for(qs: Any) -> str:
    """The database's plan for a queryset, with sequential scans discouraged on PG."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute("SET LOCAL enable_bitmapscan = off")
    return qs.explain()


def seed(workspace: Any, name: str, attr_type: str, values: list[Any]) -> None:
    create_attribute(workspace, name, attr_type)
    for i, value in enumerate(values):
        upsert_user(workspace, {"id": f"u{i}", name: value}, trust=Trust.SECRET)


@pytest.mark.django_db
def test_weird_but_valid_name_gets_an_index_the_filter_uses(workspace: Any) -> None:
    seed(workspace, WEIRD, "string", ["Gold", "gold", "Gold", None])
    other = create_workspace("Other").workspace
    seed(other, WEIRD, "string", ["Gold"])

    result = ensure_expression_index(workspace.pk, WEIRD, AttrType.STRING)

    assert result.created
    assert len(result.name) <= 63  # PostgreSQL's identifier limit
    assert expression_indexes(workspace.pk) == [result.name]
    assert expression_indexes(other.pk) == []
    node = parse_filter(
        {"attribute": WEIRD, "op": "eq", "value": "Gold"}, attribute_lookup(workspace)
    )
    assert count_people(workspace, node) == 2  # eq stays exact and case-sensitive
    assert (
        count_people(
            other,
            parse_filter(
                {"attribute": WEIRD, "op": "eq", "value": "Gold"}, attribute_lookup(other)
            ),
        )
        == 1
    )
    qs, _ = filtered_people(workspace, node)
    assert result.name in plan_for(qs)
    assert ensure_expression_index(workspace.pk, WEIRD, "string").created is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("attr_type", "values", "filter_", "expected"),
    [
        ("number", [3, 50, 120, None], {"op": "gte", "value": 10}, 2),
        ("date", ["2024-01-01", "2025-06-01", None], {"op": "after", "value": "2025-01-01"}, 1),
        ("boolean", [True, False, True], {"op": "eq", "value": True}, 2),
    ],
)
def test_typed_attributes_get_an_index_on_their_typed_value(
    workspace: Any, attr_type: str, values: list[Any], filter_: dict[str, Any], expected: int
) -> None:
    # Enough users without a value that the index is plainly the best plan
    # (on a handful of rows any index scan costs the same to the planner).
    seed(workspace, "hot", attr_type, values + [None] * 200)
    result = ensure_expression_index(workspace.pk, "hot", attr_type)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE people_person")
    node = parse_filter({"attribute": "hot", **filter_}, attribute_lookup(workspace))
    assert count_people(workspace, node) == expected
    qs, _ = filtered_people(workspace, node)
    assert result.name in plan_for(qs)


@pytest.mark.django_db
def test_sort_on_an_indexed_attribute_keeps_users_without_a_value_last(workspace: Any) -> None:
    seed(workspace, "seats", "number", [5, None, 50, 7])
    ensure_expression_index(workspace.pk, "seats", "number")
    lookup = attribute_lookup(workspace)
    for direction, expected in (
        ("asc", ["u0", "u3", "u2", "u1"]),
        ("desc", ["u2", "u3", "u0", "u1"]),
    ):
        sort = parse_sort({"attribute": "seats", "direction": direction}, lookup)
        page = search_people(workspace, None, sort, limit=10)
        assert [p.external_id for p in page.people] == expected


@pytest.mark.django_db(transaction=True)
def test_index_is_built_concurrently_outside_a_transaction(workspace: Any) -> None:
    seed(workspace, "plan", "string", ["pro", "free"])
    result = ensure_expression_index(workspace.pk, "plan", "string")
    assert result.name in expression_indexes(workspace.pk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
                "JOIN pg_class ON pg_class.oid = indexrelid WHERE relname = %s",
                [result.name],
            )
            valid, definition = cur.fetchone()
        assert valid
        assert f"WHERE (workspace_id = {workspace.pk})" in definition


def test_hostile_name_is_refused_before_any_sql() -> None:
    with pytest.raises(InvalidFilter):
        custom_value_sql("sqlite", '"custom"', HOSTILE, AttrType.STRING)
    with pytest.raises(InvalidFilter):
        custom_value_sql("postgresql", '"custom"', HOSTILE, AttrType.STRING)
    with pytest.raises(InvalidFilter):
        CustomValue(HOSTILE, AttrType.STRING)
    with pytest.raises(InvalidFilter):
        ensure_expression_index(1, HOSTILE, AttrType.STRING)
    with pytest.raises(UnknownAttribute):
        parse_filter({"attribute": HOSTILE, "op": "eq", "value": "x"}, lambda name: None)


@pytest.mark.django_db
def test_hostile_filter_attribute_over_the_api_is_a_clear_4xx(api: Any, workspace: Any) -> None:
    seed(workspace, "plan", "string", ["pro"])
    response = api.post(
        "/users/count", {"filter": {"attribute": HOSTILE, "op": "eq", "value": "pro"}}
    )
    assert 400 <= response.status_code < 500
    assert error_of(response)["field"] == "filter.attribute"
    search = api.post("/users/search", {"sort": {"attribute": HOSTILE}})
    assert 400 <= search.status_code < 500


def test_index_names_stay_apart_and_short() -> None:
    long_a, long_b = "a" * 40 + "_one", "a" * 40 + "_two"
    assert index_name(7, long_a) != index_name(7, long_b)
    assert index_name(7, "plan") != index_name(8, "plan")
    assert all(len(index_name(10**9, n)) <= 63 for n in (long_a, WEIRD))
