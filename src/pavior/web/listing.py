"""The users list's state: columns, filter, sort, search and cursor, all from the URL.

The filter travels as the API's JSON in `?filter=` so a view can be bookmarked
and shared; the filter bar's form fields are only a way to build that JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict

from pavior.core.attributes import BUILTINS, AttributeDef, AttrType
from pavior.core.errors import InvalidFilter, PaviorError
from pavior.core.filters import Node, SegmentResolver, Sort, parse_filter, parse_sort
from pavior.core.inputs import search_term
from pavior.people.queries import all_attributes
from pavior.web.models import ColumnPreference
from pavior.workspaces.models import Workspace

DEFAULT_COLUMNS = [
    "name",
    "email",
    "last_seen_at",
    "city",
    "country",
    "total_visits",
    "signed_up_at",
]
PAGE_SIZE = 50

# Operator labels by type, in SPEC §8 order; the filter bar offers only these.
OPERATORS: dict[str, list[tuple[str, str]]] = {
    "string": [
        ("eq", "is"),
        ("ne", "is not"),
        ("contains", "contains"),
        ("not_contains", "does not contain"),
        ("starts_with", "starts with"),
        ("ends_with", "ends with"),
        ("is_set", "is set"),
        ("is_not_set", "is not set"),
    ],
    "number": [
        ("eq", "="),
        ("ne", "≠"),
        ("gt", ">"),
        ("gte", "≥"),
        ("lt", "<"),
        ("lte", "≤"),
        ("is_set", "is set"),
        ("is_not_set", "is not set"),
    ],
    "date": [
        ("before", "before"),
        ("after", "after"),
        ("on", "on"),
        ("more_than_days_ago", "more than N days ago"),
        ("less_than_days_ago", "less than N days ago"),
        ("exactly_days_ago", "exactly N days ago"),
        ("is_set", "is set"),
        ("is_not_set", "is not set"),
    ],
    "boolean": [
        ("is_true", "is true"),
        ("is_false", "is false"),
        ("is_set", "is set"),
        ("is_not_set", "is not set"),
    ],
}
NO_VALUE_OPS = {"is_set", "is_not_set", "is_true", "is_false"}
DAY_OPS = {"more_than_days_ago", "less_than_days_ago", "exactly_days_ago"}


def stored_attributes(workspace: Workspace) -> list[AttributeDef]:
    """Every attribute a list may show, filter or sort on: not live, not archived."""
    return [a for a in all_attributes(workspace) if not a.live and not a.archived]


def chosen_columns(user: Any, workspace: Workspace, attrs: list[AttributeDef]) -> list[str]:
    pref = ColumnPreference.objects.filter(user=user, workspace=workspace).first()
    names = pref.columns if pref else DEFAULT_COLUMNS
    known = {a.name for a in attrs}
    return [n for n in names if n in known]


def save_columns(user: Any, workspace: Workspace, names: list[str]) -> None:
    ColumnPreference.objects.update_or_create(
        user=user, workspace=workspace, defaults={"columns": names}
    )


@dataclass
class Row:
    """One filter-bar condition as the form shows it."""

    attribute: str = ""
    op: str = ""
    value: str = ""


@dataclass
class ListState:
    filter_json: Any = None
    node: Node | None = None
    sort: Sort | None = None
    search: str = ""
    cursor: str = ""
    join: str = "and"
    # The segment picked above the filter bar; the rows are ANDed with it.
    segment_id: int | None = None
    # Only users whose address is suppressed (a bounce or a complaint): `?suppressed=1`.
    suppressed: bool = False
    rows: list[Row] = field(default_factory=list)
    nested: bool = False
    error: str = ""
    error_field: str = ""

    def params(self, **override: Any) -> dict[str, str]:
        p: dict[str, str] = {}
        if self.filter_json:
            p["filter"] = json.dumps(self.filter_json, separators=(",", ":"))
        if self.search:
            p["q"] = self.search
        if self.suppressed:
            p["suppressed"] = "1"
        if self.sort:
            p["sort"] = self.sort.attribute.name
            p["dir"] = self.sort.direction
        p.update({k: v for k, v in override.items() if v is not None})
        return {k: v for k, v in p.items() if v != ""}

    def query(self, **override: Any) -> str:
        return urlencode(self.params(**override))


def rows_to_filter(rows: list[Row], join: str, lookup: Any) -> Any:
    """The filter bar's rows as the API's filter JSON (None when empty)."""
    conditions = []
    for row in rows:
        if not row.attribute:
            continue
        attr = lookup(row.attribute)
        op = row.op
        cond: dict[str, Any] = {"attribute": row.attribute}
        if op in ("is_true", "is_false"):
            cond.update(op="eq", value=op == "is_true")
        elif op in NO_VALUE_OPS:
            cond["op"] = op
        else:
            cond["op"] = op
            value: Any = row.value
            if op in DAY_OPS:
                try:
                    value = int(row.value.strip())
                except ValueError:
                    pass  # parse_filter names the problem
            elif attr is not None and attr.type == AttrType.NUMBER:
                try:
                    value = float(row.value) if "." in row.value else int(row.value)
                except ValueError:
                    pass
            cond["value"] = value
        conditions.append(cond)
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return {"or" if join == "or" else "and": conditions}


def _segment_id(node: Any) -> int | None:
    if isinstance(node, dict) and len(node) == 1:
        raw = node.get("segment")
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
    return None


def split_segment(data: Any) -> tuple[int | None, Any]:
    """A filter as the page shows it: the picked segment, and the filter bar's part.

    `{"segment": 3}` and `{"and": [{"segment": 3}, REST]}` (what `join_segment`
    writes) have one; any other filter is all filter bar.
    """
    found = _segment_id(data)
    if found is not None:
        return found, None
    if isinstance(data, dict) and len(data) == 1 and isinstance(data.get("and"), list):
        items = data["and"]
        if len(items) == 2 and _segment_id(items[0]) is not None:
            return _segment_id(items[0]), items[1]
    return None, data


def join_segment(segment_id: int | None, data: Any) -> Any:
    """The reverse of `split_segment`: the segment ANDed with the filter bar's filter."""
    if segment_id is None:
        return data
    node = {"segment": segment_id}
    return node if not data else {"and": [node, data]}


def filter_to_rows(data: Any) -> tuple[list[Row], str, bool]:
    """The reverse: rows for the form, the join, and whether groups were nested."""

    def row(c: dict[str, Any]) -> Row:
        op = c.get("op", "")
        value = c.get("value")
        if op in ("eq", "ne") and isinstance(value, bool):
            op = "is_true" if (value == (op == "eq")) else "is_false"
            value = None
        return Row(str(c.get("attribute", "")), str(op), "" if value is None else str(value))

    if not isinstance(data, dict):
        return [], "and", False
    for kind in ("and", "or"):
        if kind in data and isinstance(data[kind], list):
            children = data[kind]
            flat = [c for c in children if isinstance(c, dict) and "attribute" in c]
            return [row(c) for c in flat], kind, len(flat) != len(children)
    if "attribute" in data:
        return [row(data)], "and", False
    return [], "and", False


def read_state(
    params: QueryDict, attrs: list[AttributeDef], segments: SegmentResolver | None = None
) -> ListState:
    """Parse the URL. A bad filter or sort becomes `error`, never an exception."""
    # Live attributes are known to the lookup so the core can say why they are refused.
    known = {a.name: a for a in BUILTINS.values() if a.live} | {a.name: a for a in attrs}
    lookup = known.get
    state = ListState(cursor=params.get("cursor", ""), suppressed=params.get("suppressed") == "1")
    try:
        state.search = search_term(params.get("q")) or ""
    except PaviorError as e:
        state.error, state.error_field = e.message, "q"
    raw = params.get("filter", "").strip()
    if raw:
        try:
            state.filter_json = json.loads(raw)
        except ValueError:
            state.error, state.error_field = "The filter in the address is not valid JSON", "filter"
            state.filter_json = None
    state.segment_id, bar = split_segment(state.filter_json)
    state.rows, state.join, state.nested = filter_to_rows(bar)
    try:
        state.node = parse_filter(state.filter_json, lookup, segments=segments)
    except PaviorError as e:
        state.error, state.error_field = e.message, e.field or "filter"
        state.node = None
    if params.get("sort"):
        try:
            state.sort = parse_sort(
                {"attribute": params["sort"], "direction": params.get("dir", "asc")}, lookup
            )
        except InvalidFilter as e:
            state.error, state.error_field = e.message, "sort"
        except PaviorError as e:
            state.error, state.error_field = e.message, "sort"
    return state


def rows_from_form(params: QueryDict) -> list[Row]:
    attrs = params.getlist("fa")
    ops = params.getlist("fo")
    values = params.getlist("fv")
    rows = []
    for i, name in enumerate(attrs):
        rows.append(
            Row(
                name,
                ops[i] if i < len(ops) else "",
                values[i] if i < len(values) else "",
            )
        )
    return rows


def form_int(text: str | None) -> int | None:
    """A form's index or id: ASCII digits only ("²".isdigit() is true, int("²") fails)."""
    if text and text.isascii() and text.isdigit():
        return int(text)
    return None


def filter_from_form(params: QueryDict, lookup: Any) -> Any:
    """The filter bar's form fields (`fa`/`fo`/`fv`, `join`, the segment `fs`, and a
    `remove_condition` button) as the API's filter JSON (None when empty).

    The users list folds it into `?filter=`; the message composer into the audience.
    """
    rows = rows_from_form(params)
    remove = form_int(params.get("remove_condition"))
    if remove is not None and remove < len(rows):
        rows.pop(remove)
    data = rows_to_filter(rows, params.get("join", "and"), lookup)
    return join_segment(form_int(params.get("fs")), data)


def filter_bar(
    rows: list[Row], join: str, attrs: list[AttributeDef], *, add_row: bool = False
) -> dict[str, Any]:
    """The template context of the filter bar (`web/_filter_bar.html`): its rows
    (plus an empty one to fill in), the join, and what the selects offer."""
    rows = list(rows)
    if not rows or add_row:
        rows.append(Row())
    return {
        "rows": rows,
        "join": join,
        "filter_attrs": attrs,
        "operators": OPERATORS,
        "no_value_ops": sorted(NO_VALUE_OPS),
    }
