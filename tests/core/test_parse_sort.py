from __future__ import annotations

from collections.abc import Callable

import pytest

from pavior.core.attributes import BUILTINS, AttributeDef
from pavior.core.errors import InvalidFilter, LiveAttribute, PaviorError, UnknownAttribute
from pavior.core.filters import Sort, parse_sort

Lookup = Callable[[str], AttributeDef | None]


def error(lookup: Lookup, data: object) -> PaviorError:
    with pytest.raises(PaviorError) as info:
        parse_sort(data, lookup)
    return info.value


def test_sort_defaults_to_ascending(lookup: Lookup) -> None:
    assert parse_sort(None, lookup) is None
    assert parse_sort({"attribute": "last_seen_at"}, lookup) == Sort(
        BUILTINS["last_seen_at"], "asc"
    )
    assert parse_sort({"attribute": "plan", "direction": "desc"}, lookup) == Sort(
        lookup("plan"),  # type: ignore[arg-type]
        "desc",
    )


def test_unknown_and_live_attributes(lookup: Lookup) -> None:
    err = error(lookup, {"attribute": "nope"})
    assert isinstance(err, UnknownAttribute) and err.field == "sort.attribute"
    err = error(lookup, {"attribute": "a') OR 1=1--"})
    assert isinstance(err, UnknownAttribute) and err.field == "sort.attribute"
    err = error(lookup, {"attribute": "current_session_duration"})
    assert isinstance(err, LiveAttribute) and err.field == "sort.attribute"
    assert "live attribute" in err.message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"attribute": "plan", "direction": "up"}, "sort.direction"),
        ({"attribute": "plan", "direction": "DESC"}, "sort.direction"),
        ({"direction": "asc"}, "sort.attribute"),
        ({"attribute": "plan", "nulls": "first"}, "sort.nulls"),
        ("plan", "sort"),
    ],
)
def test_malformed_sort(lookup: Lookup, data: object, field: str) -> None:
    err = error(lookup, data)
    assert isinstance(err, InvalidFilter) and err.field == field
