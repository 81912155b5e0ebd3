from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from pavior.core.attributes import BUILTINS, AttributeDef, AttrType
from pavior.core.errors import (
    InvalidFilter,
    LimitExceeded,
    LiveAttribute,
    PaviorError,
    UnknownAttribute,
)
from pavior.core.filters import (
    OPS_BY_TYPE,
    Condition,
    Group,
    check_not_live,
    parse_filter,
    referenced_attributes,
)

from .conftest import SCHEMA

Lookup = Callable[[str], AttributeDef | None]


def cond(attribute: str, op: str, value: object = None) -> dict[str, object]:
    return {"attribute": attribute, "op": op, "value": value}


def error(lookup: Lookup, data: object, **kw: int) -> PaviorError:
    with pytest.raises(PaviorError) as info:
        parse_filter(data, lookup, **kw)
    return info.value


def test_ops_by_type() -> None:
    assert OPS_BY_TYPE[AttrType.STRING] == {
        "eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "is_set", "is_not_set"
    }  # fmt: skip
    assert OPS_BY_TYPE[AttrType.NUMBER] == {
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "is_set",
        "is_not_set",
    }
    assert OPS_BY_TYPE[AttrType.DATE] == {
        "eq", "ne", "gt", "gte", "lt", "lte", "before", "after", "on", "more_than_days_ago",
        "less_than_days_ago", "exactly_days_ago", "is_set", "is_not_set",
    }  # fmt: skip
    assert OPS_BY_TYPE[AttrType.BOOLEAN] == {"eq", "ne", "is_set", "is_not_set"}


def test_no_filter(lookup: Lookup) -> None:
    assert parse_filter(None, lookup) is None
    assert parse_filter({}, lookup) is None


def test_a_condition_with_a_coerced_value(lookup: Lookup) -> None:
    node = parse_filter(cond("plan", "eq", "pro"), lookup)
    assert node == Condition(SCHEMA["plan"], "eq", "pro")
    assert parse_filter(cond("plan_price", "gte", "10.5"), lookup) == Condition(
        SCHEMA["plan_price"], "gte", 10.5
    )
    assert parse_filter(cond("is_active_affiliate", "eq", "true"), lookup) == Condition(
        SCHEMA["is_active_affiliate"], "eq", True
    )
    node = parse_filter(cond("last_seen_at", "before", "2024-05-01T12:00:00+02:00"), lookup)
    assert node == Condition(
        BUILTINS["last_seen_at"], "before", datetime(2024, 5, 1, 10, tzinfo=UTC)
    )


def test_on_takes_a_calendar_day(lookup: Lookup) -> None:
    assert parse_filter(cond("renewal_on", "on", "2024-05-01"), lookup) == Condition(
        SCHEMA["renewal_on"], "on", date(2024, 5, 1)
    )
    node = parse_filter(cond("renewal_on", "on", "2024-05-01T23:30:00-02:00"), lookup)
    assert isinstance(node, Condition) and node.value == date(2024, 5, 2)
    node = parse_filter(cond("renewal_on", "on", 1714564800), lookup)
    assert isinstance(node, Condition) and node.value == date(2024, 5, 1)
    err = error(lookup, cond("renewal_on", "on", "someday"))
    assert isinstance(err, InvalidFilter) and err.field == "filter.value"
    assert isinstance(error(lookup, cond("renewal_on", "on", "2024-02-30")), InvalidFilter)


def test_days_ops_take_a_non_negative_whole_number(lookup: Lookup) -> None:
    node = parse_filter(cond("last_seen_at", "more_than_days_ago", 7), lookup)
    assert node == Condition(BUILTINS["last_seen_at"], "more_than_days_ago", 7)
    for bad in (-1, 1.5, "7", True, 10**9):
        err = error(lookup, cond("last_seen_at", "exactly_days_ago", bad))
        assert isinstance(err, InvalidFilter) and err.field == "filter.value"
        assert "whole number of days" in err.message


def test_is_set_needs_no_value(lookup: Lookup) -> None:
    assert parse_filter({"attribute": "plan", "op": "is_set"}, lookup) == Condition(
        SCHEMA["plan"], "is_set", None
    )
    assert parse_filter(cond("plan", "is_not_set", None), lookup) == Condition(
        SCHEMA["plan"], "is_not_set", None
    )
    err = error(lookup, cond("plan", "is_set", "x"))
    assert isinstance(err, InvalidFilter) and "takes no value" in err.message


def test_other_ops_need_a_value(lookup: Lookup) -> None:
    for data in (
        {"attribute": "plan", "op": "eq"},
        cond("plan", "eq", None),
        cond("plan", "eq", ""),
    ):
        err = error(lookup, data)
        assert isinstance(err, InvalidFilter) and "is_not_set" in err.message
        assert err.field == "filter.value"


def test_groups_nest_and_report_json_paths(lookup: Lookup) -> None:
    data = {
        "and": [
            cond("plan", "eq", "pro"),
            {"or": [cond("plan_price", "gt", 5), {"attribute": "email", "op": "is_set"}]},
        ]
    }
    node = parse_filter(data, lookup)
    assert isinstance(node, Group) and node.kind == "and"
    inner = node.children[1]
    assert isinstance(inner, Group) and inner.kind == "or" and len(inner.children) == 2
    assert referenced_attributes(node) == {"plan", "plan_price", "email"}
    assert referenced_attributes(None) == set()

    data = {"and": [cond("plan", "eq", "pro"), cond("plan", "gt", "pro")]}
    assert error(lookup, data).field == "filter.and[1].op"
    data = {"or": [cond("plan", "eq", "pro"), {"and": [cond("nope", "eq", 1)]}]}
    assert error(lookup, data).field == "filter.or[1].and[0].attribute"


def test_op_that_does_not_fit_the_type_says_which(lookup: Lookup) -> None:
    err = error(lookup, cond("plan_price", "contains", "4"))
    assert isinstance(err, InvalidFilter)
    assert err.field == "filter.op"
    assert err.message == (
        'Operator "contains" does not apply to plan_price, which is a number; '
        "use one of: eq, ne, gt, gte, lt, lte, is_set, is_not_set"
    )
    assert isinstance(error(lookup, cond("plan", "before", "x")), InvalidFilter)
    assert isinstance(error(lookup, cond("plan", "like", "x")), InvalidFilter)
    assert isinstance(error(lookup, {"attribute": "plan", "value": "x"}), InvalidFilter)


def test_unknown_attribute(lookup: Lookup) -> None:
    err = error(lookup, cond("plna", "eq", "pro"))
    assert isinstance(err, UnknownAttribute) and err.field == "filter.attribute"
    assert "plna" in err.message


def test_injection_like_name_is_unknown_and_never_looked_up(lookup: Lookup) -> None:
    seen: list[str] = []

    def spy(name: str) -> AttributeDef | None:
        seen.append(name)
        return lookup(name)

    for name in ("a') OR 1=1--", "plan; DROP TABLE users", "plan'", "pl an", "$.plan", "plän"):
        err = error(spy, cond(name, "eq", "x"))
        assert isinstance(err, UnknownAttribute), name
        assert err.field == "filter.attribute"
    assert seen == []


def test_live_attribute_is_refused_saying_so(lookup: Lookup) -> None:
    err = error(lookup, cond("current_page_url", "contains", "/pricing"))
    assert isinstance(err, LiveAttribute)
    assert err.message == (
        "current_page_url is a live attribute; it can only be used in message targeting"
    )
    assert err.field == "filter.attribute"
    with pytest.raises(LiveAttribute):
        check_not_live(BUILTINS["time_on_current_page"])
    check_not_live(BUILTINS["last_seen_at"])


def test_archived_attributes_are_still_filterable(lookup: Lookup) -> None:
    assert parse_filter(cond("old_plan", "eq", "x"), lookup) == Condition(
        SCHEMA["old_plan"], "eq", "x"
    )


def test_bad_values_name_the_attribute(lookup: Lookup) -> None:
    err = error(lookup, cond("plan_price", "gt", "lots"))
    assert (
        isinstance(err, InvalidFilter) and "plan_price" in err.message and '"lots"' in err.message
    )
    err = error(lookup, cond("renewal_on", "after", "03/04/2024"))
    assert isinstance(err, InvalidFilter) and "ambiguous" in err.message
    assert isinstance(error(lookup, cond("is_active_affiliate", "eq", "maybe")), InvalidFilter)
    assert isinstance(error(lookup, cond("plan", "contains", ["a"])), InvalidFilter)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("plan = 'pro'", "filter"),
        ([cond("plan", "eq", "pro")], "filter"),
        ({"and": []}, "filter.and"),
        ({"and": cond("plan", "eq", "pro")}, "filter.and"),
        ({"and": [cond("plan", "eq", "pro")], "or": []}, "filter"),
        ({"and": [cond("plan", "eq", "pro")], "attribute": "plan"}, "filter"),
        ({"and": ["plan"]}, "filter.and[0]"),
        ({**cond("plan", "eq", "pro"), "extra": 1}, "filter.extra"),
        ({"op": "eq", "value": "x"}, "filter.attribute"),
        (cond(42, "eq", "x"), "filter.attribute"),  # type: ignore[arg-type]
    ],
)
def test_malformed_filters(lookup: Lookup, data: object, field: str) -> None:
    err = error(lookup, data)
    assert isinstance(err, InvalidFilter)
    assert err.field == field


def test_depth_and_size_limits(lookup: Lookup) -> None:
    leaf: object = cond("plan", "eq", "pro")
    node = leaf
    for _ in range(5):
        node = {"and": [node]}
    assert parse_filter(node, lookup) is not None
    err = error(lookup, {"or": [node]})
    assert isinstance(err, LimitExceeded) and "5 deep" in err.message

    assert parse_filter({"and": [leaf] * 50}, lookup) is not None
    err = error(lookup, {"and": [leaf] * 51})
    assert isinstance(err, LimitExceeded) and err.field == "filter.and[50]"
    assert isinstance(error(lookup, {"and": [leaf] * 3}, max_conditions=2), LimitExceeded)


def test_absurdly_deep_input_is_refused_without_recursing_to_the_bottom(lookup: Lookup) -> None:
    node: object = cond("plan", "eq", "pro")
    for _ in range(5000):
        node = {"and": [node]}
    assert isinstance(error(lookup, node), LimitExceeded)
