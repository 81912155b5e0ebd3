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
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Expression,
    F,
    FloatField,
    Q,
    QuerySet,
    TextField,
)
from django.utils import timezone

from pavior.core.attributes import AttributeDef, AttrType
from pavior.core.dates import to_epoch
from pavior.core.errors import InvalidFilter
from pavior.core.filters import Condition, Group, Node, SegmentRef, Sort
from pavior.people.models import Person
from pavior.people.queries import BUILTIN_COLUMNS
from pavior.segments.actions import note_attribute_use
from pavior.segments.indexes import checked_name, custom_value_sql
from pavior.workspaces.models import Workspace

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
        column = f'{compiler.quote_name_unless_alias(Person._meta.db_table)}."custom"'
        return custom_value_sql(connection.vendor, column, self.name, self.attr_type), ()

    def __repr__(self) -> str:
        return f"CustomValue({self.name!r}, {self.attr_type})"


@dataclass
class Compiler:
    """Turns a filter AST into a Q over annotations it registers."""

    workspace: Workspace
    annotations: dict[str, Any]
    custom_attributes: dict[str, AttributeDef] = field(default_factory=dict)

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
        start = datetime.combine(day, time(0), tzinfo=self.tz())
        end = start + timedelta(days=1)
        # Re-anchor through the calendar so a DST change keeps the day whole.
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz())
        return start.astimezone(UTC), end.astimezone(UTC)

    def compile(self, node: Node) -> Q:
        if isinstance(node, Group):
            parts = [self.compile(child) for child in node.children]
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
        return self._compare(ref, op, value)

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
        now = timezone.now()
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
    if search:
        term = search.strip()
        q &= Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id=term)
    qs = Person.objects.filter(workspace=workspace)
    if compiler.annotations:
        qs = qs.alias(**compiler.annotations)
        note_attribute_use(workspace.pk, compiler.custom_attributes.values())
    return qs.filter(q), compiler


def count_people(workspace: Workspace, node: Node | None, *, search: str | None = None) -> int:
    qs, _ = filtered_people(workspace, node, search=search)
    return qs.count()


# --- sorting and cursors --------------------------------------------------------------


def _encode_cursor(value: Any, external_id: str) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, external_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, external_id = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["dt"])
        if not isinstance(external_id, str):
            raise ValueError("bad id")
        return value, external_id
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidFilter("The cursor is not one this API returned", field="cursor") from e


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
) -> Page:
    """One page of people: sorted, users without a value last, ties by id."""
    qs, compiler = filtered_people(
        workspace, node, search=search, sort_attribute=sort.attribute if sort else None
    )
    total = qs.count() if with_total else -1
    if sort is None:
        ref, direction = "external_id", "asc"
    else:
        ref, direction = compiler.value_ref(sort.attribute), sort.direction
    descending = direction == "desc"
    if cursor:
        value, last_id = _decode_cursor(cursor)
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
