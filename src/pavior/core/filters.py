"""The filter language (SPEC §8, §10): JSON in, a validated tree out.

The tree holds attribute *definitions*, never names typed by a client, so
the SQL compiler can only ever emit columns and JSON keys that exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from .attributes import AttributeDef, AttrType
from .coercion import Refused, coerce
from .dates import check_day, parse_date
from .errors import (
    InvalidFilter,
    LimitExceeded,
    LiveAttribute,
    PaviorError,
    UnknownAttribute,
    show_value,
)

Lookup = Callable[[str], AttributeDef | None]

_PRESENCE = frozenset({"is_set", "is_not_set"})
_ORDER = frozenset({"eq", "ne", "gt", "gte", "lt", "lte"})
_DAYS = frozenset({"more_than_days_ago", "less_than_days_ago", "exactly_days_ago"})

OPS_BY_TYPE: dict[AttrType, frozenset[str]] = {
    AttrType.STRING: frozenset(
        {"eq", "ne", "contains", "not_contains", "starts_with", "ends_with"} | _PRESENCE
    ),
    AttrType.NUMBER: _ORDER | _PRESENCE,
    AttrType.DATE: _ORDER | {"before", "after", "on"} | _DAYS | _PRESENCE,
    AttrType.BOOLEAN: frozenset({"eq", "ne"} | _PRESENCE),
}
# A stable order for error messages, the order people read them in.
_OP_ORDER = (
    "eq ne gt gte lt lte contains not_contains starts_with ends_with before after on "
    "more_than_days_ago less_than_days_ago exactly_days_ago is_set is_not_set"
).split()

# 100 years; "more than N days ago" beyond that would only overflow dates.
MAX_DAYS = 36_500
_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Condition:
    """One test on one attribute. ``value`` is already coerced: str,
    int|float, bool, an aware UTC datetime (date comparisons), a ``date``
    (``on``), an int of days (days ops), or None (is_set / is_not_set)."""

    attribute: AttributeDef
    op: str
    value: object


@dataclass(frozen=True)
class Group:
    kind: Literal["and", "or"]
    children: tuple[Node, ...]


@dataclass(frozen=True)
class SegmentRef:
    """``{"segment": ID}``: a saved segment's filter as it is now, parsed when
    the query is. ``node`` is None for a segment that matches every user."""

    segment_id: int
    name: str
    node: Node | None


Node = Condition | Group | SegmentRef


@dataclass(frozen=True)
class StoredSegment:
    """What a resolver gives for a segment id: its name and its filter's JSON."""

    id: int
    name: str
    filter: object


# Segment id -> the stored segment, or None when the workspace has no such id.
# Passed in by the caller (the core knows no database).
SegmentResolver = Callable[[int], StoredSegment | None]

# Segments inside segments: deeper than this is refused, and the whole
# expansion may hold at most this many conditions, so a chain of segments each
# naming the next many times cannot multiply into an unbounded query.
MAX_SEGMENT_NESTING = 10
MAX_EXPANDED_CONDITIONS = 500


@dataclass(frozen=True)
class Sort:
    attribute: AttributeDef
    direction: Literal["asc", "desc"]


def check_not_live(attr: AttributeDef, *, field: str | None = None) -> None:
    """Refuse a live attribute outside message targeting (SPEC §2)."""
    if attr.live:
        raise LiveAttribute(
            f"{attr.name} is a live attribute; it can only be used in message targeting",
            field=field,
        )


def resolve_attribute(name: object, lookup: Lookup, *, field: str) -> AttributeDef:
    """The stored (non-live) attribute called ``name``, or an error."""
    if not isinstance(name, str):
        raise InvalidFilter("The attribute must be given by its name, as a string", field=field)
    # A name that no attribute could have is refused before lookup, so text
    # like "a') OR 1=1--" never reaches a query, not even as a parameter.
    attr = lookup(name) if _NAME.fullmatch(name) else None
    if attr is None:
        raise UnknownAttribute(f"Unknown attribute {show_value(name)}", field=field)
    check_not_live(attr, field=field)
    return attr


def parse_filter(
    data: object,
    lookup: Lookup,
    *,
    max_depth: int = 5,
    max_conditions: int = 50,
    segments: SegmentResolver | None = None,
    defining: int | None = None,
) -> Node | None:
    """Validate a JSON filter; None or {} means "no filter".

    ``segments`` resolves ``{"segment": ID}`` nodes (without it they are
    refused). ``defining`` is the id of a segment whose new filter this is, so
    a filter that reaches that segment again is refused as a cycle.
    """
    if data is None or data == {}:
        return None
    budget = _Budget(MAX_EXPANDED_CONDITIONS)
    stack = (defining,) if defining is not None else ()
    parser = _Parser(lookup, max_depth, max_conditions, segments, stack, budget)
    return parser.node(data, "filter", 1)


@dataclass
class _Budget:
    """Conditions left for the whole expansion, segments included."""

    left: int


class _Parser:
    def __init__(
        self,
        lookup: Lookup,
        max_depth: int,
        max_conditions: int,
        segments: SegmentResolver | None = None,
        stack: tuple[int, ...] = (),
        budget: _Budget | None = None,
    ) -> None:
        self.lookup = lookup
        self.max_depth = max_depth
        self.max_conditions = max_conditions
        self.conditions = 0
        self.segments = segments
        self.stack = stack  # ids of the segments being expanded, outermost first
        self.budget = budget or _Budget(MAX_EXPANDED_CONDITIONS)

    def node(self, data: object, path: str, depth: int) -> Node:
        if not isinstance(data, dict):
            raise InvalidFilter(
                'A filter must be an object: a condition {"attribute", "op", "value"} '
                'or a group {"and": [...]} / {"or": [...]}',
                field=path,
            )
        kinds = [k for k in ("and", "or") if k in data]
        if kinds:
            return self.group(data, kinds, path, depth)
        if "segment" in data:
            return self.segment(data, path)
        return self.condition(data, path)

    def _spend(self, path: str) -> None:
        self.conditions += 1
        if self.conditions > self.max_conditions:
            raise LimitExceeded(
                f"A filter may have at most {self.max_conditions} conditions", field=path
            )
        self.budget.left -= 1
        if self.budget.left < 0:
            raise LimitExceeded(
                f"With the segments it names expanded, a filter may have at most "
                f"{MAX_EXPANDED_CONDITIONS} conditions",
                field=path,
            )

    def segment(self, data: dict[object, object], path: str) -> SegmentRef:
        here = f"{path}.segment"
        if len(data) != 1:
            extra = next(k for k in data if k != "segment")
            raise InvalidFilter(
                f'A segment condition is {{"segment": ID}} alone; found {show_value(extra)}',
                field=here,
            )
        raw = data["segment"]
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise InvalidFilter(
                f"segment takes a segment's id, a whole number; got {show_value(raw)}",
                field=here,
            )
        if self.segments is None:
            raise InvalidFilter("Saved segments cannot be used in this filter", field=here)
        self._spend(path)
        if raw in self.stack:
            raise InvalidFilter(
                f"Segment {raw} includes itself ({' → '.join(str(i) for i in (*self.stack, raw))})",
                field=here,
                code="segment_cycle",
            )
        if len(self.stack) >= MAX_SEGMENT_NESTING:
            raise LimitExceeded(
                f"Segments may include other segments at most {MAX_SEGMENT_NESTING} deep",
                field=here,
            )
        stored = self.segments(raw)
        if stored is None:
            raise InvalidFilter(f"Unknown segment {raw}", field=here, code="unknown_segment")
        if stored.filter is None or stored.filter == {}:
            return SegmentRef(stored.id, stored.name, None)
        inner = _Parser(
            self.lookup,
            self.max_depth,
            self.max_conditions,
            self.segments,
            (*self.stack, stored.id),
            self.budget,
        )
        try:
            node = inner.node(stored.filter, "filter", 1)
        except PaviorError as exc:
            if exc.code == "segment_cycle":
                raise  # already names the whole loop
            # The stored filter was valid when saved; say which segment it is
            # when it no longer is (an attribute deleted since, say).
            raise type(exc)(
                f"In segment {show_value(stored.name)} ({stored.id}): {exc.message}",
                field=here,
                code=exc.code,
            ) from None
        return SegmentRef(stored.id, stored.name, node)

    def group(self, data: dict[object, object], kinds: list[str], path: str, depth: int) -> Group:
        if len(data) != 1:
            raise InvalidFilter(
                'A group has exactly one key, "and" or "or"; '
                f"found {', '.join(show_value(k) for k in data)}",
                field=path,
            )
        kind: Literal["and", "or"] = "and" if kinds[0] == "and" else "or"
        items = data[kind]
        here = f"{path}.{kind}"
        if not isinstance(items, list) or not items:
            raise InvalidFilter(f'"{kind}" takes a non-empty list of filters', field=here)
        if depth > self.max_depth:
            raise LimitExceeded(
                f"Filters may nest groups at most {self.max_depth} deep", field=here
            )
        children = tuple(self.node(item, f"{here}[{i}]", depth + 1) for i, item in enumerate(items))
        return Group(kind, children)

    def condition(self, data: dict[object, object], path: str) -> Condition:
        extra = [k for k in data if k not in ("attribute", "op", "value")]
        if extra:
            raise InvalidFilter(
                f"Unexpected key {show_value(extra[0])} in a condition; "
                'a condition has "attribute", "op" and "value"',
                field=f"{path}.{extra[0]}",
            )
        self._spend(path)
        if "attribute" not in data:
            raise InvalidFilter('A condition needs an "attribute"', field=f"{path}.attribute")
        attr = resolve_attribute(data["attribute"], self.lookup, field=f"{path}.attribute")
        op = data.get("op")
        if not isinstance(op, str):
            raise InvalidFilter(f'A condition needs an "op"; {_allowed(attr)}', field=f"{path}.op")
        if op not in OPS_BY_TYPE[attr.type]:
            raise InvalidFilter(
                f"Operator {show_value(op)} does not apply to {attr.name}, which is a "
                f"{attr.type.value}; {_allowed(attr)}",
                field=f"{path}.op",
            )
        value = _value(attr, op, data, f"{path}.value")
        return Condition(attr, op, value)


def _value(attr: AttributeDef, op: str, data: dict[object, object], field: str) -> object:
    if op in _PRESENCE:
        if data.get("value") is not None:
            raise InvalidFilter(f"{op} takes no value", field=field)
        return None
    if data.get("value") is None:
        raise InvalidFilter(
            f"{op} on {attr.name} needs a value; to find users without one use is_not_set",
            field=field,
        )
    raw = data["value"]
    kind = attr.type.value
    if op in _DAYS:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DAYS:
            raise InvalidFilter(
                f"{op} needs a whole number of days from 0 to {MAX_DAYS}; got {show_value(raw)}",
                field=field,
            )
        return raw
    if op == "on":
        return _calendar_day(raw, field)
    try:
        value = coerce(kind, raw)
    except Refused as exc:
        detail = f": {exc.detail}" if exc.detail else ""
        raise InvalidFilter(
            f"{show_value(raw)} is not a valid {kind} value for {attr.name}{detail}",
            field=field,
        ) from None
    if value is None:  # "" or blank: matching "no value" is is_not_set's job
        raise InvalidFilter(
            f"{op} on {attr.name} needs a non-empty value; "
            "to find users without one use is_not_set",
            field=field,
        )
    return value


def _calendar_day(raw: object, field: str) -> date:
    """The day for ``on``: a plain YYYY-MM-DD, or any date value's UTC day.

    The workspace time zone is applied by the query, which knows it.
    """
    try:
        if isinstance(raw, datetime):
            return check_day(parse_date(raw).date())
        if isinstance(raw, date):
            return check_day(raw)
        if isinstance(raw, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw.strip()):
            return check_day(date.fromisoformat(raw.strip()))
        return check_day(parse_date(raw).date())
    except ValueError as exc:
        raise InvalidFilter(
            f"on needs a date such as 2024-05-01; {show_value(raw)} is not one ({exc})",
            field=field,
        ) from None


def parse_sort(data: object, lookup: Lookup) -> Sort | None:
    """Validate ``{"attribute": ..., "direction": "asc"|"desc"}``; None = default."""
    if data is None or data == {}:
        return None
    if not isinstance(data, dict):
        raise InvalidFilter('sort must be an object {"attribute", "direction"}', field="sort")
    extra = [k for k in data if k not in ("attribute", "direction")]
    if extra:
        raise InvalidFilter(
            f"Unexpected key {show_value(extra[0])} in sort", field=f"sort.{extra[0]}"
        )
    if "attribute" not in data:
        raise InvalidFilter('sort needs an "attribute"', field="sort.attribute")
    attr = resolve_attribute(data["attribute"], lookup, field="sort.attribute")
    direction = data.get("direction", "asc")
    if direction not in ("asc", "desc"):
        raise InvalidFilter(
            f'sort direction must be "asc" or "desc"; got {show_value(direction)}',
            field="sort.direction",
        )
    return Sort(attr, "asc" if direction == "asc" else "desc")


def referenced_attributes(node: Node | None) -> set[str]:
    """API names of every attribute a filter uses."""
    if node is None:
        return set()
    if isinstance(node, Condition):
        return {node.attribute.name}
    if isinstance(node, SegmentRef):
        return referenced_attributes(node.node)
    names: set[str] = set()
    for child in node.children:
        names |= referenced_attributes(child)
    return names


def attribute_names(data: object) -> set[str]:
    """Attribute names a filter's JSON names directly (not through segments)."""
    found: set[str] = set()
    if isinstance(data, dict):
        raw = data.get("attribute")
        if isinstance(raw, str):
            found.add(raw)
        for kind in ("and", "or"):
            items = data.get(kind)
            if isinstance(items, list):
                for item in items:
                    found |= attribute_names(item)
    return found


def segment_ids(data: object) -> set[int]:
    """Ids of the segments a filter's JSON names directly (not through them)."""
    found: set[int] = set()
    if isinstance(data, dict):
        raw = data.get("segment")
        if isinstance(raw, int) and not isinstance(raw, bool):
            found.add(raw)
        for kind in ("and", "or"):
            items = data.get(kind)
            if isinstance(items, list):
                for item in items:
                    found |= segment_ids(item)
    return found


def _allowed(attr: AttributeDef) -> str:
    ops = OPS_BY_TYPE[attr.type]
    return f"use one of: {', '.join(o for o in _OP_ORDER if o in ops)}"
