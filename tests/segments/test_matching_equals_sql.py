"""The in-memory matcher gives exactly the users the SQL compiler gives.

Hypothesis draws users (built-ins and one custom attribute of each type, with
missing values, empty and blank strings, case and non-ASCII variants, numbers
at the edge of double precision, instants a microsecond either side of local
midnights and of "now - N days"), a workspace time zone, a clock, saved
segments and filters using every operator of every type inside and/or groups.
The users are stored; on whichever database the suite runs, the ids the SQL
filter returns must be the ids `pavior.core.matching` accepts from each stored
row's values (`pavior.people.values.person_values`).
"""

from __future__ import annotations

import os
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pavior.core import clock
from pavior.core.attributes import AttrType
from pavior.core.dates import to_epoch
from pavior.core.filters import OPS_BY_TYPE
from pavior.core.matching import compile_matcher
from pavior.people.models import Person
from pavior.people.values import MATCH_FIELDS, database_dialect, person_values

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
CUSTOM = {"plan": "string", "seats": "number", "renewal_at": "date", "active": "boolean"}
ATTRIBUTES: dict[str, AttrType] = {
    "id": AttrType.STRING,
    "email": AttrType.STRING,
    "name": AttrType.STRING,
    "country": AttrType.STRING,
    "total_visits": AttrType.NUMBER,
    "total_time_spent": AttrType.NUMBER,
    "signed_up_at": AttrType.DATE,
    "last_seen_at": AttrType.DATE,
    "email_subscription": AttrType.BOOLEAN,
    **{name: AttrType(kind) for name, kind in CUSTOM.items()},
}
# Case variants, non-ASCII letters whose case only PostgreSQL folds, characters
# whose upper case is longer ("ß" -> "SS", "ﬁ" -> "FI"), LIKE's own wildcards.
WORDS = [
    "pro", "Pro", "PRO", "pro plan", "Éclair", "éclair", "ÉCLAIR", "straße", "STRASSE",
    "ı", "I", "i", "İ", "ﬁne", "FINE", "100%", "10", "a_b", "axb", "a\\b", "µ", "Μ", " ",
]  # fmt: skip
# Short needles from the few letters the stored text is made of, so that
# "contains", "starts with" and "ends with" often differ on the same user,
# and "é" often meets "É" (which only PostgreSQL folds).
TEXT = st.sampled_from(WORDS) | st.text(alphabet="aAéÉ%_", min_size=1, max_size=2)
STORED_TEXT = (
    st.none()
    | st.just("")
    | st.sampled_from(WORDS)
    | st.text(alphabet="aAéÉbß%_\\ ", min_size=1, max_size=5)
)
NUMBERS = [0, -0.0, 1, -1, 2.5, -2.5, 0.1, 3, 10, 2**53, 2**53 + 1, 1e15, 1e300, 2**63 - 1]
NUMBER = st.sampled_from(NUMBERS) | st.integers(-20, 20) | st.floats(-30, 30, width=32)
# Filter values stay below 2**63: PostgreSQL's jsonb keeps a saved segment's
# 1e300 as a 301-digit integer, which no longer parses as a number value.
FILTER_NUMBER = NUMBER.filter(lambda x: abs(x) < 2**63)
INT4 = st.sampled_from([0, 1, 3, 10, 2**31 - 1, -(2**31)]) | st.integers(-20, 20)
DAYS = [0, 1, 2, 3, 7, 30]


@st.composite
def moments(draw: Any) -> tuple[str, datetime]:
    """A zone and a "now" near one of its local midnights (where day rules show)."""
    tz_name = draw(st.sampled_from(ZONES))
    tz = zoneinfo.ZoneInfo(tz_name)
    # Around DST changes of the zones above, and an ordinary day.
    day = draw(st.sampled_from([date(2025, 3, 30), date(2025, 10, 5), date(2025, 11, 2)]))
    day += timedelta(days=draw(st.integers(-1, 2)))
    offset = draw(st.sampled_from([0, 1, -1, 3600, 43200, 86399]))
    now = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC) + timedelta(seconds=offset)
    return tz_name, now


def instants(tz_name: str, now: datetime) -> st.SearchStrategy[datetime]:
    """Instants a microsecond either side of local midnights and of now - N days."""
    tz = zoneinfo.ZoneInfo(tz_name)
    local = now.astimezone(tz).date()

    @st.composite
    def one(draw: Any) -> datetime:
        nudge = timedelta(microseconds=draw(st.sampled_from([0, 0, 0, 1, -1, 500_000])))
        if draw(st.booleans()):
            base = now - timedelta(days=draw(st.sampled_from(DAYS)))
        else:
            day = local - timedelta(days=draw(st.integers(-2, 31)))
            base = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
        return base + nudge

    return one()


@st.composite
def users(draw: Any, tz_name: str, now: datetime) -> dict[str, Any]:
    when = st.none() | instants(tz_name, now)
    return {
        "email": draw(STORED_TEXT),
        "name": draw(STORED_TEXT),
        "country": draw(STORED_TEXT),
        "total_visits": draw(INT4),
        "total_time_spent": float(draw(NUMBER)),
        "signed_up_at": draw(when),
        "last_seen_at": draw(when),
        "email_subscription": draw(st.booleans()),
        "plan": draw(STORED_TEXT),
        "seats": draw(st.none() | NUMBER),
        "renewal_at": draw(when),
        "active": draw(st.none() | st.booleans()),
    }


class Near:
    """Filter values drawn near the users' own: a slice of a stored string in
    another case, a stored number or instant or a microsecond either side, the
    local day of a stored date, the N for which a stored date is N days ago.
    Boundaries are where a wrong operator shows."""

    def __init__(self, tz_name: str, now: datetime, drawn: list[dict[str, Any]]) -> None:
        self.tz_name, self.now, self.drawn = tz_name, now, drawn
        self.tz = zoneinfo.ZoneInfo(tz_name)

    def stored(self, name: str) -> list[Any]:
        if name == "id":
            return [f"u{i}" for i in range(len(self.drawn))]
        return [u[name] for u in self.drawn if u[name] is not None and u[name] != ""]

    def value(self, draw: Any, name: str, op: str) -> Any:
        kind = ATTRIBUTES[name]
        own = self.stored(name)
        near = bool(own) and draw(st.booleans())
        if op.endswith("_days_ago"):
            if near:
                when = draw(st.sampled_from(own))
                local = (self.now.astimezone(self.tz).date() - when.astimezone(self.tz).date()).days
                elapsed = (self.now - when).days
                return min(max(draw(st.sampled_from([local, elapsed, elapsed])), 0), 36_500)
            return draw(st.sampled_from(DAYS))
        if op == "on":
            if near:
                return draw(st.sampled_from(own)).astimezone(self.tz).date().isoformat()
            local = self.now.astimezone(self.tz).date()
            return (local - timedelta(days=draw(st.integers(-1, 31)))).isoformat()
        if kind == AttrType.DATE:
            if near:
                nudge = timedelta(microseconds=draw(st.sampled_from([0, 1, -1])))
                return (draw(st.sampled_from(own)) + nudge).isoformat()
            return draw(instants(self.tz_name, self.now)).isoformat()
        if kind == AttrType.STRING:
            if near:
                text = draw(st.sampled_from(own))
                i = draw(st.integers(0, len(text) - 1))
                j = draw(st.integers(i + 1, len(text)))
                piece = text[i:j]
                return draw(
                    st.sampled_from([piece, piece.upper(), piece.lower(), piece.swapcase()])
                )
            return draw(TEXT)
        if kind == AttrType.NUMBER:
            if near:
                x = draw(st.sampled_from(own))
                fits = [v for v in (x, x + 0.5, x - 0.5) if abs(v) < 2**63] or [0]
                return draw(st.sampled_from(fits))
            return draw(FILTER_NUMBER)
        return draw(st.booleans())

    def condition(self, name: str | None = None, op: str | None = None) -> st.SearchStrategy[Any]:
        @st.composite
        def one(draw: Any) -> dict[str, Any]:
            attr = name or draw(st.sampled_from(sorted(ATTRIBUTES)))
            operator = op or draw(st.sampled_from(sorted(OPS_BY_TYPE[ATTRIBUTES[attr]])))
            data: dict[str, Any] = {"attribute": attr, "op": operator}
            if operator not in ("is_set", "is_not_set"):
                data["value"] = self.value(draw, attr, operator)
            return data

        return one()

    def filters(self, segment_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
        leaf = self.condition()
        if segment_ids:
            leaf = leaf | st.sampled_from(segment_ids).map(lambda i: {"segment": i})
        return st.recursive(
            leaf,
            lambda inner: st.builds(
                lambda kind, items: {kind: items},
                st.sampled_from(["and", "or"]),
                st.lists(inner, min_size=1, max_size=3),
            ),
            max_leaves=6,
        )


def store(workspace: Any, drawn: list[dict[str, Any]]) -> None:
    rows = []
    for i, u in enumerate(drawn):
        custom = {}
        for name in CUSTOM:
            value = u[name]
            if value is not None:
                custom[name] = to_epoch(value) if isinstance(value, datetime) else value
        builtins = {k: v for k, v in u.items() if k not in CUSTOM}
        rows.append(Person(workspace=workspace, external_id=f"u{i}", custom=custom, **builtins))
    Person.objects.bulk_create(rows)


@pytest.fixture
def ws(workspace: Any) -> Any:
    from pavior.people.actions import create_attribute

    for name, kind in CUSTOM.items():
        create_attribute(workspace, name, kind)
    return workspace


@settings(
    # More for a long hunt: PAVIOR_MATCHING_EXAMPLES=2000.
    max_examples=int(os.environ.get("PAVIOR_MATCHING_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_matcher_equals_sql(ws: Any, data: Any) -> None:
    from pavior.segments.actions import create_segment
    from pavior.segments.models import Segment
    from pavior.segments.queries import filtered_people
    from pavior.segments.saved import parse_workspace_filter

    tz_name, now = data.draw(moments(), "moment")
    drawn = data.draw(st.lists(users(tz_name, now), min_size=3, max_size=10), "users")
    # Each example starts from an empty workspace in its own zone.
    Person.objects.filter(workspace=ws).delete()
    Segment.objects.filter(workspace=ws).delete()
    ws.timezone = tz_name
    ws.save(update_fields=["timezone"])
    store(ws, drawn)
    people = list(Person.objects.filter(workspace=ws).only(*MATCH_FIELDS))
    near = Near(tz_name, now, drawn)
    segments = [create_segment(ws, "Everyone", {}).pk]
    for i in range(2):
        segment_filter = data.draw(near.filters(segments), f"segment {i}")
        segments.append(create_segment(ws, f"S{i}", segment_filter).pk)

    # Every operator of every type, on one attribute of that type, then a few
    # and/or trees with segments.
    to_check = []
    for kind in AttrType:
        name = data.draw(st.sampled_from([n for n, k in ATTRIBUTES.items() if k == kind]))
        for op in sorted(OPS_BY_TYPE[kind]):
            to_check.append(data.draw(near.condition(name, op), f"{name} {op}"))
    to_check += [data.draw(near.filters(segments), f"filter {i}") for i in range(4)]

    tz = zoneinfo.ZoneInfo(tz_name)
    dialect = database_dialect()
    for filter_data in to_check:
        with clock.use_clock(clock.FakeClock(now)):
            node = parse_workspace_filter(ws, filter_data)
            qs, _ = filtered_people(ws, node)
            from_sql = set(qs.values_list("external_id", flat=True))
        matcher = compile_matcher(node, tz, dialect=dialect)
        in_memory = {p.external_id for p in people if matcher(person_values(p), now)}
        assert in_memory == from_sql, (filter_data, tz_name, now)
        share = "none" if not from_sql else "all" if len(from_sql) == len(people) else "some"
        event(f"matched {share}")


# Edges a random draw seldom meets together, checked every run: integers past
# double precision (PostgreSQL compares custom numbers and float columns as
# doubles, SQLite exactly), fractional bounds on an integer column, case
# folding that only PostgreSQL does or that would lengthen the text.
EDGE_USERS: list[dict[str, Any]] = [
    {"seats": 2**53 + 1, "total_time_spent": float(2**53), "total_visits": -2, "name": "Straße"},
    {"seats": 2**53, "total_time_spent": 0.5, "total_visits": 0, "name": "ÉCLAIR"},
    {"seats": 0.1, "total_time_spent": 3.0, "total_visits": 3, "name": "éclair"},
    {"seats": None, "total_time_spent": 0.0, "total_visits": 2**31 - 1, "name": ""},
]
EDGE_FILTERS = (
    [
        {"attribute": "seats", "op": op, "value": value}
        for op in ("eq", "ne", "gt", "gte", "lt", "lte")
        for value in (2**53, 2**53 + 1, 0.1, 9.007199254740992e15)
    ]
    + [
        {"attribute": "total_time_spent", "op": op, "value": value}
        for op in ("eq", "gt", "lte")
        for value in (2**53 + 1, 2**53, 0.5)
    ]
    + [
        {"attribute": "total_visits", "op": op, "value": value}
        for op in ("eq", "ne", "gt", "gte", "lt", "lte")
        for value in (0.5, -2.5, 2.5, 3.0, 2**53 + 1)
    ]
    + [
        {"attribute": "name", "op": op, "value": value}
        for op in ("contains", "not_contains", "starts_with", "ends_with")
        for value in ("é", "É", "ss", "SS", "ß", "straß")
    ]
)


def test_edges_equal_sql(ws: Any) -> None:
    from pavior.segments.queries import filtered_people
    from pavior.segments.saved import parse_workspace_filter

    now = datetime(2025, 3, 30, 12, tzinfo=UTC)
    blank: dict[str, Any] = dict.fromkeys(("email", "country", "signed_up_at", "last_seen_at"))
    blank |= {"email_subscription": True, "plan": None, "renewal_at": None, "active": None}
    store(ws, [{**blank, **u} for u in EDGE_USERS])
    people = list(Person.objects.filter(workspace=ws).only(*MATCH_FIELDS))
    dialect = database_dialect()
    for filter_data in EDGE_FILTERS:
        node = parse_workspace_filter(ws, filter_data)
        qs, _ = filtered_people(ws, node)
        from_sql = set(qs.values_list("external_id", flat=True))
        matcher = compile_matcher(node, zoneinfo.ZoneInfo("UTC"), dialect=dialect)
        in_memory = {p.external_id for p in people if matcher(person_values(p), now)}
        assert in_memory == from_sql, filter_data
