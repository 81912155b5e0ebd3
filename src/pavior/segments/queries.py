"""Filters, sorts and cursors over people, compiled to SQL for SQLite and PostgreSQL.

The filter AST comes from `pavior.core.filters`, already validated against the
workspace's definitions. A custom attribute's JSON key is written into the SQL
as a quoted literal (so an expression index can match it), and only after
`pavior.segments.indexes.checked_name` has confirmed it is letters, digits and
underscores; every value travels as a bound parameter.
"""

from __future__ import annotations

import base64
import json
import math
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
)

from pavior.core import clock
from pavior.core.attributes import AttributeDef, AttrType
from pavior.core.coercion import INT_MAX
from pavior.core.dates import check_range, day_bounds, to_epoch
from pavior.core.errors import InvalidCursor, InvalidFilter
from pavior.core.filters import Condition, Group, Node, SegmentRef, Sort
from pavior.core.inputs import MAX_TEXT_LENGTH, search_term, text_problem
from pavior.people import hooks
from pavior.people.models import AttributeDefinition, IndexedValue, Person
from pavior.people.queries import BUILTIN_COLUMNS
from pavior.segments.indexes import checked_name, custom_value_sql
from pavior.workspaces.models import Workspace

# Built-in numbers kept in integer columns (the others are floats).
INTEGER_COLUMNS = frozenset({"total_visits"})

_OUTPUT = {
    AttrType.STRING: TextField,
    AttrType.NUMBER: FloatField,
    AttrType.DATE: FloatField,  # epoch seconds
    AttrType.BOOLEAN: BooleanField,
}


class CustomValue(Expression):
    """One custom attribute's typed value: `custom ->> 'key'` (PG) / `JSON_EXTRACT` (SQLite).

    Written by hand rather than with Django's KeyTransform because the latter's
    SQLite form calls three JSON functions per row, and we know the type. The
    SQL comes from `pavior.segments.indexes`, which builds the matching
    expression index from the same function: the key is written as a literal
    (SQLite matches an indexed expression by its text), which that module only
    does for a name of letters, digits and underscores.
    """

    def __init__(self, name: str, attr_type: AttrType):
        super().__init__(output_field=_OUTPUT[attr_type]())
        self.name = checked_name(name)
        self.attr_type = attr_type

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        # The people table's alias in this query: "U0" when it is a subquery.
        table = compiler.query.base_table or Person._meta.db_table
        column = f'{compiler.quote_name_unless_alias(table)}."custom"'
        return custom_value_sql(connection.vendor, column, self.name, self.attr_type), ()

    def __repr__(self) -> str:
        return f"CustomValue({self.name!r}, {self.attr_type})"


@dataclass
class Compiler:
    """Turns a filter AST into a Q over annotations it registers."""

    workspace: Workspace
    annotations: dict[str, Any]
    custom_attributes: dict[str, AttributeDef] = field(default_factory=dict)
    # name -> definition id of the custom attributes whose typed copy
    # (people.IndexedValue) is complete; loaded at first need.
    _indexed: dict[str, int] | None = None

    def indexed_id(self, attr: AttributeDef) -> int | None:
        """The definition id whose IndexedValue rows hold `attr`'s values, if ready."""
        if attr.builtin:
            return None
        if self._indexed is None:
            self._indexed = dict(
                AttributeDefinition.objects.filter(
                    workspace=self.workspace, index_state="ready"
                ).values_list("name", "id")
            )
        return self._indexed.get(attr.name)

    def value_ref(self, attr: AttributeDef) -> str:
        if attr.builtin:
            return BUILTIN_COLUMNS[attr.name]
        alias = f"_c_{attr.name}"
        self.annotations.setdefault(alias, CustomValue(attr.name, attr.type))
        self.custom_attributes[attr.name] = attr
        return alias

    def tz(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.workspace.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def day_range(self, day: date) -> tuple[datetime, datetime]:
        return day_bounds(day, self.tz())

    def compile(self, node: Node) -> Q:
        if isinstance(node, Group):
            children = node.children
            merged: list[Q] = []
            if node.kind == "and" and self.typed_in_people():
                sets, children = self._merge_indexed(children)
                merged = [Q(pk__in=ids) for ids in sets]
            parts = merged + [self.compile(child) for child in children]
            q = parts[0]
            for part in parts[1:]:
                q = (q & part) if node.kind == "and" else (q | part)
            return q
        if isinstance(node, SegmentRef):
            # Expanded here, at query time: the parser read the segment's filter
            # as it is now. A segment without a filter matches everyone, and
            # must still do so inside an "or" (where an empty Q() would vanish).
            return self.compile(node.node) if node.node is not None else Q(pk__isnull=False)
        return self.condition(node)

    def condition(self, c: Condition) -> Q:
        attr = c.attribute
        indexed = self.indexed_id(attr) if self.typed_in_people() else None
        if indexed is not None:
            return self._indexed_condition(c, indexed)
        ref = self.value_ref(attr)
        op, value = c.op, c.value
        if op == "is_set":
            return Q(**{f"{ref}__isnull": False})
        if op == "is_not_set":
            return Q(**{f"{ref}__isnull": True})
        if attr.type == AttrType.STRING:
            return self._string(ref, op, value)
        if attr.type == AttrType.BOOLEAN:
            # `IN (v)`, not `= v`: for a boolean expression Django writes `= true`
            # as the bare expression, which SQLite cannot match to the
            # attribute's expression index.
            eq = Q(**{f"{ref}__in": [bool(value)]})
            return eq if op == "eq" else (~eq | Q(**{f"{ref}__isnull": True}))
        if attr.type == AttrType.DATE:
            return self._date(attr, ref, op, value)
        if attr.name in INTEGER_COLUMNS and attr.builtin and isinstance(value, float):
            return self._whole_number(ref, op, value)
        return self._compare(ref, op, value)

    # A negative operator holds for a user without a value too: it is "not" the
    # positive one, over people, rather than a test of the side table's rows.
    _NEGATED = {"ne": "eq", "not_contains": "contains", "is_not_set": "is_set"}

    @staticmethod
    def typed_in_people() -> bool:
        """Whether a filter that reads people anyway tests indexed attributes
        through IndexedValue (subqueries) rather than the JSON column.

        SQLite: yes, its JSON functions parse the document on every call.
        PostgreSQL: no. Its jsonb lookups are cheap, and once the people rows
        are read (a built-in condition, a scope mixing both) joining the side
        table was measured slower (docs/benchmarks-reports.md); there the side
        table answers only what it can alone (`indexed_ids`, reports).
        """
        return connection.vendor != "postgresql"

    def indexed_ids(self, node: Node | None) -> QuerySet[Any] | None:
        """The filter's users as a set of person ids read from IndexedValue alone,
        when it is a tree of "and"/"or" over positive conditions on indexed
        attributes (else None). Counting it is an index-only count: the
        attribute's rows are its workspace's, so people are never read."""
        if isinstance(node, SegmentRef):
            return self.indexed_ids(node.node)
        if isinstance(node, Condition):
            attribute_id = self.indexed_id(node.attribute)
            if attribute_id is None or node.op in self._NEGATED:
                return None
            return self._indexed_rows([node], attribute_id).values("person_id")
        if isinstance(node, Group):
            children = node.children
            merged: list[QuerySet[Any]] = []
            if node.kind == "and":
                merged, children = self._merge_indexed(children)
            found = [self.indexed_ids(child) for child in children]
            parts = merged + [part for part in found if part is not None]
            if len(merged) + len(found) > len(parts) or not parts:
                return None
            first, *rest = parts
            if node.kind == "or":
                return first.union(*rest) if rest else first
            # "and": the first set's rows whose person is in every other set.
            for part in rest:
                first = first.filter(person_id__in=part)
            return first
        return None

    def _merge_indexed(
        self, children: tuple[Node, ...]
    ) -> tuple[list[QuerySet[Any]], tuple[Node, ...]]:
        """In an "and": positive conditions on the same indexed attribute test
        the same row (one per user and attribute), so they become one subquery
        (`seats >= 10 AND seats <= 100` one index range, not two sets joined).
        Returns those sets of person ids and the children left to compile one by one."""
        by_attribute: dict[int, list[Condition]] = {}
        for child in children:
            if isinstance(child, Condition) and child.op not in self._NEGATED:
                attribute_id = self.indexed_id(child.attribute)
                if attribute_id is not None:
                    by_attribute.setdefault(attribute_id, []).append(child)
        together = {id(c) for group in by_attribute.values() if len(group) > 1 for c in group}
        if not together:
            return [], children
        merged = [
            self._indexed_rows(group, attribute_id).values("person_id")
            for attribute_id, group in by_attribute.items()
            if len(group) > 1
        ]
        return merged, tuple(child for child in children if id(child) not in together)

    def _indexed_match(self, c: Condition, op: str) -> Q:
        """The test of one IndexedValue row's value for the positive `op`."""
        attr = c.attribute
        column = "value_text" if attr.type == AttrType.STRING else "value_number"
        if op == "is_set":
            return Q()
        if attr.type == AttrType.BOOLEAN:
            return Q(value_number=1.0 if c.value else 0.0)
        if attr.type == AttrType.STRING:
            return self._string(column, op, c.value)
        if attr.type == AttrType.DATE:
            return self._date(attr, column, op, c.value)
        return self._compare(column, op, c.value)

    def _indexed_rows(
        self, conditions: list[Condition], attribute_id: int, op: str | None = None
    ) -> QuerySet[Any]:
        """The attribute's IndexedValue rows whose value passes every condition
        (each by its own operator, or by `op` for a single one)."""
        column = "value_text" if conditions[0].attribute.type == AttrType.STRING else "value_number"
        match = Q()
        for c in conditions:
            match &= self._indexed_match(c, op or c.op)
        # The explicit NOT NULL lets both databases use the partial index.
        return IndexedValue.objects.filter(
            match, attribute_id=attribute_id, **{f"{column}__isnull": False}
        )

    def _indexed_condition(self, c: Condition, attribute_id: int) -> Q:
        """The condition over the attribute's IndexedValue rows: the users among
        them that match (an IN subquery), or for a negative operator those not
        among the matches of its positive (NOT EXISTS: an anti-join)."""
        op = self._NEGATED.get(c.op, c.op)
        rows = self._indexed_rows([c], attribute_id, op)
        if op == c.op:
            return Q(pk__in=rows.values("person_id"))
        return ~Q(Exists(rows.filter(person_id=OuterRef("pk"))))

    def _string(self, ref: str, op: str, value: Any) -> Q:
        lookups = {
            "eq": "exact",
            "contains": "icontains",
            "starts_with": "istartswith",
            "ends_with": "iendswith",
        }
        if op in lookups:
            return Q(**{f"{ref}__{lookups[op]}": value})
        if op == "ne":
            return ~Q(**{ref: value}) | Q(**{f"{ref}__isnull": True})
        if op == "not_contains":
            return ~Q(**{f"{ref}__icontains": value}) | Q(**{f"{ref}__isnull": True})
        raise InvalidFilter(f"Operator {op} does not apply to a string", field="op")

    def _compare(self, ref: str, op: str, value: Any) -> Q:
        lookups = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
        if op in lookups:
            return Q(**{f"{ref}__{lookups[op]}": value})
        if op == "ne":
            return ~Q(**{ref: value}) | Q(**{f"{ref}__isnull": True})
        raise InvalidFilter(f"Operator {op} does not apply here", field="op")

    def _instant(self, attr: AttributeDef, when: datetime) -> Any:
        # Built-in dates are datetime columns; custom ones are epoch seconds.
        return when if attr.builtin else to_epoch(when)

    def _between(self, attr: AttributeDef, ref: str, start: datetime, end: datetime) -> Q:
        return Q(**{f"{ref}__gte": self._instant(attr, start)}) & Q(
            **{f"{ref}__lt": self._instant(attr, end)}
        )

    def _date(self, attr: AttributeDef, ref: str, op: str, value: Any) -> Q:
        # The one clock (tests hold it at a day boundary); "exactly N days ago"
        # is a calendar day in the workspace's zone, the others are instants.
        now = clock.now()
        if op == "on":
            return self._between(attr, ref, *self.day_range(value))
        if op == "before":
            return Q(**{f"{ref}__lt": self._instant(attr, value)})
        if op == "after":
            return Q(**{f"{ref}__gt": self._instant(attr, value)})
        if op == "more_than_days_ago":
            return Q(**{f"{ref}__lt": self._instant(attr, now - timedelta(days=value))})
        if op == "less_than_days_ago":
            return Q(**{f"{ref}__gt": self._instant(attr, now - timedelta(days=value))})
        if op == "exactly_days_ago":
            day = now.astimezone(self.tz()).date() - timedelta(days=value)
            return self._between(attr, ref, *self.day_range(day))
        instant = self._instant(attr, value)
        return self._compare(ref, op, instant)

    def _whole_number(self, ref: str, op: str, value: float) -> Q:
        """A comparison of an integer column with a fractional number, as the
        mathematics says: Django would truncate the value (`total_visits = 0.5`
        would find 0, `> -2.5` miss -2), so the bound is rounded the right way."""
        if value.is_integer():
            return self._compare(ref, op, int(value))
        if op == "eq":
            return Q(pk__in=[])
        if op == "ne":
            return Q(pk__isnull=False)
        bound = math.floor(value) if op in ("gt", "lte") else math.ceil(value)
        return self._compare(ref, op, bound)


def filtered_people(
    workspace: Workspace,
    node: Node | None,
    *,
    search: str | None = None,
    sort_attribute: AttributeDef | None = None,
) -> tuple[QuerySet[Person], Compiler]:
    compiler = Compiler(workspace=workspace, annotations={})
    q = compiler.compile(node) if node is not None else Q()
    if sort_attribute is not None:
        compiler.value_ref(sort_attribute)
    term = search_term(search)
    if term:
        q &= Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id=term)
    qs = Person.objects.filter(workspace=workspace)
    if compiler.annotations:
        qs = qs.alias(**compiler.annotations)
        names = tuple(a.name for a in compiler.custom_attributes.values() if not a.builtin)
        if names:  # segments counts uses to index busy attributes (segments/apps.py)
            hooks.attribute_used.emit(hooks.AttributeUsed(workspace.pk, names))
    return qs.filter(q), compiler


def count_people(workspace: Workspace, node: Node | None, *, search: str | None = None) -> int:
    if node is not None and not search_term(search):
        ids = Compiler(workspace=workspace, annotations={}).indexed_ids(node)
        if ids is not None:
            return ids.count()
    qs, _ = filtered_people(workspace, node, search=search)
    return qs.count()


# --- sorting and cursors --------------------------------------------------------------


def _encode_cursor(value: Any, external_id: str) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, external_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# A cursor holds one sort value and one id (each at most 1,000 characters of
# text, or a number or date); anything longer was not made here.
MAX_CURSOR_LENGTH = 4 * MAX_TEXT_LENGTH


def _forged(why: str) -> InvalidCursor:
    return InvalidCursor(
        f"The cursor is not one this API returned for this sort ({why}); "
        "pass back next_cursor unchanged, with the same filter and sort",
        field="cursor",
    )


def _decode_cursor(cursor: str, sort_attr: AttributeDef | None) -> tuple[Any, str]:
    """The (sort value, id) a cursor holds, checked against the sort it must
    come from: a forged one is a 422, never a value the database chokes on."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise _forged("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise _forged("not base64 JSON") from None
    if not isinstance(data, list) or len(data) != 2:
        raise _forged("not a [value, id] pair")
    value, external_id = data
    if not _is_text(external_id):
        raise _forged("the id is not valid text")
    if value is None and sort_attr is not None:
        return None, external_id  # inside the trailing run of users without a value
    return _sort_value(value, sort_attr), external_id


def _is_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT_LENGTH and not text_problem(value)


def _sort_value(value: object, attr: AttributeDef | None) -> Any:
    """A cursor's sort value, if it has the type the sort's column holds."""
    kind = attr.type if attr is not None else AttrType.STRING
    if kind == AttrType.STRING:
        if _is_text(value):
            return value
    elif kind == AttrType.BOOLEAN:
        if isinstance(value, bool):
            return value
    elif kind == AttrType.DATE and attr is not None and attr.builtin:
        # A built-in date is a datetime column: the cursor carries {"dt": iso}.
        if isinstance(value, dict) and set(value) == {"dt"} and isinstance(value["dt"], str):
            try:
                when = datetime.fromisoformat(value["dt"])
                if when.tzinfo is not None:
                    return check_range(when.astimezone(UTC))
            except (ValueError, OverflowError):
                pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # Numbers and custom dates (epoch seconds). Built-in numbers are
        # integer or float columns of counts: a value beyond 64 bits is no
        # row's and would overflow the integer column's parameter.
        limit = INT_MAX if attr is not None and attr.builtin else None
        if math.isfinite(value) and (limit is None or abs(value) <= limit):
            return value
    raise _forged(f"its value is not a {kind.value}")


@dataclass
class Page:
    total: int
    people: list[Person]
    next_cursor: str | None


def search_people(
    workspace: Workspace,
    node: Node | None,
    sort: Sort | None,
    *,
    limit: int = 50,
    cursor: str | None = None,
    search: str | None = None,
    with_total: bool = True,
    restrict: Q | None = None,
) -> Page:
    """One page of people: sorted, users without a value last, ties by id.

    ``restrict`` narrows the people further by a condition a higher layer owns
    (the users list's "Email suppressed" choice), outside the filter language.
    """
    qs, compiler = filtered_people(
        workspace, node, search=search, sort_attribute=sort.attribute if sort else None
    )
    if restrict is not None:
        qs = qs.filter(restrict)
    total = -1
    if with_total:
        # The typed side table answers a count alone only for the filter itself
        # (no search, no page-level restriction such as "email suppressed").
        plain = node is not None and not search_term(search) and restrict is None
        ids = compiler.indexed_ids(node) if plain else None
        total = ids.count() if ids is not None else qs.count()
    if sort is None:
        ref, direction = "external_id", "asc"
    else:
        ref, direction = compiler.value_ref(sort.attribute), sort.direction
    descending = direction == "desc"
    if cursor:
        value, last_id = _decode_cursor(cursor, sort.attribute if sort else None)
        qs = qs.filter(_after(ref, descending, value, last_id))
    order = F(ref).desc(nulls_last=True) if descending else F(ref).asc(nulls_last=True)
    ordering = [order] if ref == "external_id" else [order, F("external_id").asc()]
    is_custom = ref.startswith("_c_")
    if is_custom:
        qs = qs.annotate(_sort_value=F(ref))
    rows = list(qs.order_by(*ordering)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        last_value = getattr(last, "_sort_value" if is_custom else ref)
        next_cursor = _encode_cursor(last_value, last.external_id)
    return Page(total=total, people=rows, next_cursor=next_cursor)


def _after(ref: str, descending: bool, value: Any, last_id: str) -> Q:
    if ref == "external_id":
        return Q(external_id__lt=last_id) if descending else Q(external_id__gt=last_id)
    if value is None:  # already inside the trailing run of users without a value
        return Q(**{f"{ref}__isnull": True}) & Q(external_id__gt=last_id)
    beyond = Q(**{f"{ref}__lt" if descending else f"{ref}__gt": value})
    tie = Q(**{ref: value}) & Q(external_id__gt=last_id)
    return beyond | tie | Q(**{f"{ref}__isnull": True})
