"""The in-memory matcher on its own (its equality with SQL is
tests/segments/test_matching_equals_sql.py): total over any stored value, and
the rules a caller relies on without a database."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from pavior.core.attributes import AttributeDef
from pavior.core.filters import OPS_BY_TYPE, StoredSegment, parse_filter
from pavior.core.matching import compile_matcher, matches, uses_now

from .conftest import SCHEMA

NOW = datetime(2025, 3, 30, 12, tzinfo=UTC)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
VALUES = {"string": "x", "number": 1, "date": "2025-03-01", "boolean": True}
# What a JSON column may hold that no door writes under these types.
ODD = ["5", 5, 5.5, True, False, [], {}, "", "2025-03-01", None]
Lookup = Callable[[str], AttributeDef | None]


def condition(attribute: str, op: str) -> dict[str, object]:
    kind = SCHEMA[attribute].type.value
    if op in ("is_set", "is_not_set"):
        return {"attribute": attribute, "op": op}
    value: object = 3 if op.endswith("_days_ago") else VALUES[kind]
    return {"attribute": attribute, "op": op, "value": value}


@pytest.mark.parametrize("attribute", ["plan", "plan_price", "renewal_on", "is_active_affiliate"])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_wrongly_typed_custom_value_counts_as_no_value(
    attribute: str, dialect: str, lookup: Lookup
) -> None:
    for op in sorted(OPS_BY_TYPE[SCHEMA[attribute].type]):
        node = parse_filter(condition(attribute, op), lookup)
        matcher = compile_matcher(node, PARIS, dialect=dialect)  # type: ignore[arg-type]
        missing = matcher({}, NOW)
        for odd in ODD:
            fits = {
                "plan": isinstance(odd, str),
                "plan_price": type(odd) in (int, float),
                "renewal_on": type(odd) in (int, float),
                "is_active_affiliate": isinstance(odd, bool),
            }[attribute]
            if not fits:
                assert matcher({attribute: odd}, NOW) == missing, (op, odd)


def test_no_filter_and_an_empty_segment_match_everyone(lookup: Lookup) -> None:
    assert matches(None, {}, tz=UTC, now=NOW)
    everyone = parse_filter(
        {"or": [{"segment": 1}, {"attribute": "plan", "op": "eq", "value": "pro"}]},
        lookup,
        segments=lambda i: StoredSegment(i, "All", {}),
    )
    assert matches(everyone, {}, tz=UTC, now=NOW)


def test_days_ago_reads_the_moment_given(lookup: Lookup) -> None:
    node = parse_filter(
        {"attribute": "last_seen_at", "op": "less_than_days_ago", "value": 7}, lookup
    )
    assert uses_now(node)
    matcher = compile_matcher(node, UTC)
    seen = {"last_seen_at": NOW - timedelta(days=6)}
    assert matcher(seen, NOW)
    assert not matcher(seen, NOW + timedelta(days=2))


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="dialect"):
        compile_matcher(None, UTC, dialect="mysql")  # type: ignore[arg-type]
