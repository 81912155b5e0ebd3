"""Does one user match a filter? The filter language evaluated in memory, no SQL.

`pavior.segments.queries` compiles a filter to SQL to find many users; this
module answers the same question for one user whose values are already in
hand (message targeting asks it for every live message at every page view).
The two must agree user for user, and a property test over generated users
and filters holds them to it on both databases
(tests/segments/test_matching_equals_sql.py). What the SQL does, done here:

- A user's values are a mapping of API name -> stored value, as
  `pavior.people.values.person_values` builds it: built-ins as typed Python
  values (str, int/float, bool, aware datetimes), custom values as kept in the
  JSON column (dates as epoch seconds). A missing key or None is "no value".
- A condition on a user without a value is false, except ``ne``,
  ``not_contains`` and ``is_not_set``, which match such users (the SQL says
  ``... OR value IS NULL``).
- Strings: ``eq`` / ``ne`` are exact. ``contains``, ``starts_with`` and
  ``ends_with`` ignore case the way the database does: SQLite's LIKE folds
  ASCII letters only; PostgreSQL compares ``UPPER()`` of both sides, which
  upper-cases character by character (so "ß" stays "ß" and never becomes "SS").
- Numbers: a custom number (or date) and a float column are compared with
  the filter's value as a double (so 2**53 + 1 is sought as 2**53); SQLite
  then compares the stored value exactly, PostgreSQL as a double too (a
  stored 2**53 + 1 equals 2**53 there, not on SQLite). The integer column
  compares exactly everywhere (``total_visits > 2.5`` is ``>= 3``).
- Dates: instants. ``on`` and ``exactly_days_ago`` are calendar days in the
  workspace's time zone (midnight to midnight, so a DST day is 23 or 25 hours);
  ``more_than_days_ago N`` is "before now - N days" and ``less_than_days_ago N``
  "after now - N days", instants, not days.
- A segment matches as its filter does now; a segment without a filter matches
  everyone.

A stored custom value whose JSON type is not its attribute's (a string under
a number attribute) is taken as no value. No door writes such a value (every
write is coerced to the attribute's type), and the SQL has no single answer to
copy for it: SQLite compares across types by its own ordering while
PostgreSQL fails the cast.

Compile once, evaluate often: `compile_matcher` turns a tree into nested
closures with every constant (folded strings, epoch bounds, floats) worked out
once, so a message's audience costs a few function calls per user.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

from .attributes import AttributeDef, AttrType
from .dates import day_bounds, to_epoch
from .filters import Condition, Group, Node, SegmentRef

__all__ = ["Dialect", "Matcher", "Values", "compile_matcher", "matches", "uses_now"]

Dialect = Literal["sqlite", "postgresql"]
Values = Mapping[str, object]
# (a user's values, the moment "now") -> does the user match
Matcher = Callable[[Values, datetime], bool]

_DAYS_OPS = frozenset({"more_than_days_ago", "less_than_days_ago", "exactly_days_ago"})
# Built-in numbers kept in float columns; the other built-in number is an integer.
_FLOAT_COLUMNS = frozenset({"total_time_spent"})
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "before": operator.lt,
    "after": operator.gt,
}


def matches(
    node: Node | None,
    values: Values,
    *,
    tz: tzinfo,
    now: datetime,
    dialect: Dialect = "sqlite",
) -> bool:
    """Whether the user with ``values`` matches ``node`` (None matches everyone)."""
    return compile_matcher(node, tz, dialect=dialect)(values, now)


def compile_matcher(node: Node | None, tz: tzinfo, *, dialect: Dialect = "sqlite") -> Matcher:
    """``node`` as a function of (values, now); ``tz`` is the workspace's zone,
    ``dialect`` the database whose answers it must give."""
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"unknown dialect {dialect!r}")
    if node is None:
        return _everyone
    return _Compiler(tz, dialect).node(node)


def uses_now(node: Node | None) -> bool:
    """Whether the answer can change with time alone (a ``*_days_ago`` condition)."""
    if node is None:
        return False
    if isinstance(node, Condition):
        return node.op in _DAYS_OPS
    if isinstance(node, SegmentRef):
        return uses_now(node.node)
    return any(uses_now(child) for child in node.children)


def _everyone(values: Values, now: datetime) -> bool:
    return True


# --- stored values: "no value" and the right type -------------------------------------


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _type_check(attr: AttributeDef) -> Callable[[object], bool]:
    if attr.type == AttrType.STRING:
        return lambda v: isinstance(v, str)
    if attr.type == AttrType.BOOLEAN:
        return lambda v: isinstance(v, bool)
    if attr.type == AttrType.DATE and attr.builtin:
        return lambda v: isinstance(v, datetime)
    return _is_number  # numbers, and custom dates (epoch seconds)


# --- case folding as each database's LIKE does it -------------------------------------

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _fold_sqlite(s: str) -> str:
    # SQLite's LIKE ignores the case of ASCII letters only: "É" never matches "é".
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def _upper_char(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c


def _fold_postgresql(s: str) -> str:
    # UPPER() maps each character to one character (towupper), unlike
    # str.upper(), which turns "ß" into "SS".
    if s.isascii():
        return s.upper()
    return "".join(map(_upper_char, s))


class _Compiler:
    def __init__(self, tz: tzinfo, dialect: Dialect) -> None:
        self.tz = tz
        self.dialect = dialect
        self.fold = _fold_postgresql if dialect == "postgresql" else _fold_sqlite

    def node(self, node: Node) -> Matcher:
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, SegmentRef):
            return self.node(node.node) if node.node is not None else _everyone
        return self.condition(node)

    def group(self, group: Group) -> Matcher:
        parts = tuple(self.node(child) for child in group.children)
        if len(parts) == 1:
            return parts[0]
        if group.kind == "and":

            def all_of(values: Values, now: datetime) -> bool:
                for part in parts:
                    if not part(values, now):
                        return False
                return True

            return all_of

        def any_of(values: Values, now: datetime) -> bool:
            for part in parts:
                if part(values, now):
                    return True
            return False

        return any_of

    def condition(self, c: Condition) -> Matcher:
        attr, op = c.attribute, c.op
        name = attr.name
        fits = _type_check(attr)
        if op == "is_set":
            return lambda values, now: (v := values.get(name)) is not None and fits(v)
        if op == "is_not_set":
            return lambda values, now: (v := values.get(name)) is None or not fits(v)
        # test(value, now) for a value of the right type; `absent` is the
        # answer for a user without one.
        absent = op in ("ne", "not_contains")
        test = self.test(attr, op, c.value)

        def condition(values: Values, now: datetime) -> bool:
            v = values.get(name)
            if v is None or not fits(v):
                return absent
            return test(v, now)

        return condition

    # --- one typed value ---------------------------------------------------------------

    def test(self, attr: AttributeDef, op: str, value: Any) -> Callable[[Any, datetime], bool]:
        if attr.type == AttrType.STRING:
            return self.string(op, value)
        if attr.type == AttrType.BOOLEAN:
            want = bool(value)
            if op == "eq":
                return lambda v, now: v == want
            return lambda v, now: v != want
        if attr.type == AttrType.DATE:
            return self.date(attr, op, value)
        return self.compare(attr, op, value)

    def string(self, op: str, value: str) -> Callable[[Any, datetime], bool]:
        if op == "eq":
            return lambda v, now: v == value
        if op == "ne":
            return lambda v, now: v != value
        fold = self.fold
        needle = fold(value)
        if op == "contains":
            return lambda v, now: needle in fold(v)
        if op == "not_contains":
            return lambda v, now: needle not in fold(v)
        if op == "starts_with":
            return lambda v, now: fold(v).startswith(needle)
        if op == "ends_with":
            return lambda v, now: fold(v).endswith(needle)
        raise ValueError(f"operator {op} does not apply to a string")

    def float_value(self, attr: AttributeDef) -> bool:
        """Whether the value compared with is a double: the SQL binds it to a
        float column's or a custom value's comparison as one (2**53 + 1 becomes
        2**53). An integer column takes an integer (the SQL rounds a fractional
        bound the right way: segments.queries._whole_number)."""
        return not attr.builtin or attr.name in _FLOAT_COLUMNS

    def float_stored(self, attr: AttributeDef) -> bool:
        """Whether the stored value is read as a double too: PostgreSQL casts a
        custom value to double precision; SQLite keeps JSON integers exact."""
        return self.dialect == "postgresql" and self.float_value(attr)

    def casts(self, attr: AttributeDef) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
        """(for the value, for the stored value)."""
        return (
            float if self.float_value(attr) else _same,
            float if self.float_stored(attr) else _same,
        )

    def compare(self, attr: AttributeDef, op: str, value: Any) -> Callable[[Any, datetime], bool]:
        """eq/ne/gt/gte/lt/lte/before/after of a stored number or instant with ``value``."""
        to_value, cast = self.casts(attr)
        value = to_value(value)
        if op == "ne":
            return lambda v, now: cast(v) != value
        cmp = _CMP[op]
        if cast is _same:
            return lambda v, now: cmp(v, value)
        return lambda v, now: cmp(cast(v), value)

    def instant(self, attr: AttributeDef, when: datetime) -> Any:
        # Built-in dates are datetimes; custom ones epoch seconds (as the SQL does).
        return when if attr.builtin else to_epoch(when)

    def between(self, attr: AttributeDef, day: date) -> Callable[[Any, datetime], bool]:
        to_value, cast = self.casts(attr)
        start, end = (to_value(self.instant(attr, t)) for t in day_bounds(day, self.tz))
        return lambda v, now: start <= cast(v) < end

    def date(self, attr: AttributeDef, op: str, value: Any) -> Callable[[Any, datetime], bool]:
        if op == "on":
            return self.between(attr, value)
        if op in ("more_than_days_ago", "less_than_days_ago"):
            delta = timedelta(days=value)
            instant = self.instant
            to_value, cast = self.casts(attr)
            if op == "more_than_days_ago":
                return lambda v, now: cast(v) < to_value(instant(attr, now - delta))
            return lambda v, now: cast(v) > to_value(instant(attr, now - delta))
        if op == "exactly_days_ago":
            tz, days, between = self.tz, timedelta(days=value), self.between
            # The day depends on now; its bounds are worked out once per day seen.
            memo: dict[date, Callable[[Any, datetime], bool]] = {}

            def exactly(v: Any, now: datetime) -> bool:
                day = now.astimezone(tz).date() - days
                test = memo.get(day)
                if test is None:
                    if len(memo) > 8:
                        memo.clear()
                    test = memo[day] = between(attr, day)
                return test(v, now)

            return exactly
        return self.compare(attr, op, self.instant(attr, value))


def _same(v: Any) -> Any:
    return v
