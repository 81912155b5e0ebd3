"""{"segment": ID} in a filter: resolved through a callable, cycles and bad ids refused."""

from __future__ import annotations

import pytest

from pavior.core.errors import InvalidFilter, LimitExceeded, UnknownAttribute
from pavior.core.filters import (
    MAX_EXPANDED_CONDITIONS,
    Condition,
    Group,
    SegmentRef,
    StoredSegment,
    parse_filter,
    referenced_attributes,
    segment_ids,
)

from .conftest import SCHEMA

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}


def resolver(stored: dict[int, tuple[str, object]]):
    def resolve(segment_id: int) -> StoredSegment | None:
        if segment_id not in stored:
            return None
        name, data = stored[segment_id]
        return StoredSegment(segment_id, name, data)

    return resolve


def test_a_segment_node_carries_the_segments_filter_as_it_is_now() -> None:
    stored = {3: ("Pros", PRO)}
    node = parse_filter(
        {"and": [{"segment": 3}, {"attribute": "country", "op": "eq", "value": "FR"}]},
        SCHEMA.get,
        segments=resolver(stored),
    )
    assert isinstance(node, Group)
    ref = node.children[0]
    assert isinstance(ref, SegmentRef) and ref.segment_id == 3 and ref.name == "Pros"
    assert isinstance(ref.node, Condition) and ref.node.value == "pro"
    assert referenced_attributes(node) == {"plan", "country"}
    # Edit the stored filter: the next parse sees the new one.
    stored[3] = ("Pros", {"attribute": "plan", "op": "eq", "value": "team"})
    again = parse_filter({"segment": 3}, SCHEMA.get, segments=resolver(stored))
    assert isinstance(again, SegmentRef) and again.node.value == "team"  # type: ignore[union-attr]


def test_a_segment_without_a_filter_means_everyone() -> None:
    node = parse_filter({"segment": 1}, SCHEMA.get, segments=resolver({1: ("All", {})}))
    assert node == SegmentRef(1, "All", None)


def test_an_unknown_segment_is_named() -> None:
    with pytest.raises(InvalidFilter) as err:
        parse_filter({"or": [PRO, {"segment": 42}]}, SCHEMA.get, segments=resolver({}))
    assert err.value.code == "unknown_segment"
    assert "42" in err.value.message
    assert err.value.field == "filter.or[1].segment"
    assert err.value.status == 422


@pytest.mark.parametrize("bad", ["3", 0, -1, True, 1.5, None, [3]])
def test_a_segment_id_is_a_positive_whole_number(bad: object) -> None:
    with pytest.raises(InvalidFilter) as err:
        parse_filter({"segment": bad}, SCHEMA.get, segments=resolver({3: ("x", PRO)}))
    assert err.value.field == "filter.segment"


def test_a_segment_node_has_no_other_keys() -> None:
    with pytest.raises(InvalidFilter, match="alone"):
        parse_filter({"segment": 3, "op": "eq"}, SCHEMA.get, segments=resolver({3: ("x", PRO)}))


def test_without_a_resolver_segments_are_refused() -> None:
    with pytest.raises(InvalidFilter, match="cannot be used"):
        parse_filter({"segment": 3}, SCHEMA.get)


def test_a_cycle_through_other_segments_is_refused() -> None:
    stored = {
        1: ("A", {"segment": 2}),
        2: ("B", {"and": [PRO, {"segment": 3}]}),
        3: ("C", {"segment": 1}),
    }
    with pytest.raises(InvalidFilter) as err:
        parse_filter({"segment": 1}, SCHEMA.get, segments=resolver(stored))
    assert err.value.code == "segment_cycle"
    assert "1 → 2 → 3 → 1" in err.value.message


def test_a_new_filter_that_reaches_its_own_segment_is_a_cycle() -> None:
    # Segment 1's stored filter is harmless; its proposed new one reaches 1 via 2.
    stored = {1: ("A", PRO), 2: ("B", {"segment": 1})}
    with pytest.raises(InvalidFilter) as err:
        parse_filter({"segment": 2}, SCHEMA.get, segments=resolver(stored), defining=1)
    assert err.value.code == "segment_cycle"
    with pytest.raises(InvalidFilter):
        parse_filter({"segment": 1}, SCHEMA.get, segments=resolver(stored), defining=1)


def test_the_same_segment_twice_side_by_side_is_no_cycle() -> None:
    stored = {1: ("A", PRO)}
    node = parse_filter(
        {"or": [{"segment": 1}, {"segment": 1}]}, SCHEMA.get, segments=resolver(stored)
    )
    assert isinstance(node, Group) and len(node.children) == 2


def test_a_stored_filter_that_no_longer_parses_names_its_segment() -> None:
    stored = {5: ("Old", {"attribute": "deleted_attr", "op": "is_set"})}
    with pytest.raises(UnknownAttribute) as err:
        parse_filter({"segment": 5}, SCHEMA.get, segments=resolver(stored))
    assert 'In segment "Old" (5)' in err.value.message
    assert "deleted_attr" in err.value.message


def test_segments_that_multiply_are_bounded() -> None:
    # Each level names the one below 20 times: 20^4 conditions if expanded naively.
    stored = {i: (f"S{i}", {"or": [{"segment": i + 1}] * 20}) for i in range(1, 4)}
    stored[4] = ("S4", {"or": [PRO] * 20})
    with pytest.raises(LimitExceeded) as err:
        parse_filter({"segment": 1}, SCHEMA.get, segments=resolver(stored))
    assert str(MAX_EXPANDED_CONDITIONS) in err.value.message


def test_segment_ids_lists_the_directly_named_segments() -> None:
    assert segment_ids({"and": [{"segment": 1}, {"or": [PRO, {"segment": 7}]}]}) == {1, 7}
    assert segment_ids({"segment": True}) == set()
    assert segment_ids(None) == set()
