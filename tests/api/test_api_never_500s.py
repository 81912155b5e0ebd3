"""Property-based: whatever is sent to the REST API, it never answers 5xx.

Two generators, on the database under test:
- schemathesis calls every operation of the OpenAPI document with inputs
  derived from the schema (valid and invalid);
- a hand-written generator sends every operation the shapes that once
  answered 500 (tests/nasty_inputs.py): dates at the calendar's ends, deep
  nesting, NUL and lone surrogates, 100,000-character strings, forged
  cursors, in the places each operation reads them.

Each example runs in a savepoint that is rolled back, so every example starts
from the same seeded workspace (a DELETE in one example cannot hide the next
example's bug, and a failure replays the same way).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core import NOT_SET

from tests import nasty_inputs as nasty

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

OPERATIONS = [
    (method.upper(), path)
    for path, item in schema.raw_schema["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture
def seeded_key(new_workspace, api):
    for name, type_ in [("plan", "string"), ("seats", "number"), ("renewal_at", "date")]:
        api.post("/attributes", {"name": name, "type": type_})
    api.put("/users/u1", {"email": "a@example.com", "plan": "pro", "seats": 3})
    api.put("/users/u2", {"renewal_at": "2024-05-01T00:00:00Z"})
    made = api.post("/messages", {"channel": "in_app", "title": "t", "body": "b"})
    SEEDED["message"] = str(made.json()["id"])
    return new_workspace.api_key


SEEDED: dict[str, str] = {}


def call(client: Any, key: str, method: str, path: str, data: bytes) -> Any:
    """One request in a savepoint rolled back afterwards: examples share nothing."""
    with transaction.atomic():
        response = client.generic(
            method,
            path,
            data=data,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        transaction.set_rollback(True)
    assert response.status_code < 500, (method, path, data[:300], response.content[:500])
    if response.status_code >= 400 and response.status_code != 405:
        body = json.loads(response.content)
        assert set(body) == {"error"}, body
    return response


FUZZ = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@FUZZ
def test_schema_derived_inputs_never_answer_5xx(case, seeded_key, client):
    # Django's test client (not the bare WSGI app) keeps the test's transaction.
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    data = b""
    if case.body is not NOT_SET and case.body is not None:
        body = case.body
        data = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    call(client, seeded_key, case.method.upper(), path, data)


# --- the shapes that once answered 500, where each operation reads them -----------

ATTRIBUTES = ["plan", "seats", "renewal_at", "id", "email", "name", "last_seen_at",
              "first_known_at", "signed_up_at", "total_visits", "current_page_url"]  # fmt: skip
OPS = ["eq", "ne", "gt", "lt", "on", "before", "after", "contains", "starts_with",
       "exactly_days_ago", "more_than_days_ago", "is_set"]  # fmt: skip


def path_value() -> st.SearchStrategy[str]:
    ids = st.one_of(st.sampled_from(["u1", "1", "0", "-1", "99999999999999999999"]), nasty.text())
    # Lone surrogates reach the URL as the bytes of invalid UTF-8.
    return ids.map(lambda s: quote(s.encode("utf-8", "surrogatepass"), safe=""))


def condition() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "attribute": st.one_of(st.sampled_from(ATTRIBUTES), nasty.text()),
            "op": st.one_of(st.sampled_from(OPS), nasty.text()),
            "value": st.one_of(nasty.date_value(), nasty.value()),
        }
    )


def filters() -> st.SearchStrategy[Any]:
    groups = st.recursive(
        condition(),
        lambda inner: st.dictionaries(
            st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3), min_size=1
        ),
        max_leaves=6,
    )
    return st.one_of(groups, nasty.value())


def sort() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries(
            {
                "attribute": st.one_of(st.sampled_from(ATTRIBUTES), nasty.text()),
                "direction": st.one_of(st.sampled_from(["asc", "desc"]), nasty.scalar()),
            }
        ),
        nasty.value(),
    )


def user_values() -> st.SearchStrategy[Any]:
    return st.dictionaries(
        st.one_of(st.sampled_from(ATTRIBUTES), nasty.text()),
        st.one_of(nasty.date_value(), nasty.value()),
        max_size=4,
    )


def body_for(method: str, path: str) -> st.SearchStrategy[Any]:
    if path.endswith("/users/search"):
        fields = {"filter": filters(), "sort": sort(), "cursor": nasty.forged_cursor(),
                  "search": nasty.text(), "limit": nasty.scalar(),
                  "include_total": nasty.scalar()}  # fmt: skip
        return st.fixed_dictionaries({}, optional=fields)
    if path.endswith("/users/count"):
        return st.fixed_dictionaries({}, optional={"filter": filters(), "search": nasty.text()})
    if path.endswith("/activity"):
        return st.fixed_dictionaries({}, optional={"type": nasty.text(), "at": nasty.date_value()})
    if path.endswith("/users") or (method == "PUT" and "/users/" in path):
        return user_values()
    if path.endswith("/attributes"):
        return st.fixed_dictionaries({}, optional={"name": nasty.text(), "type": nasty.text()})
    if path.endswith("/workspace"):
        return st.dictionaries(
            st.sampled_from(["timezone", "identity_verification", "snippet_creates_attributes"]),
            nasty.value(),
        )
    if path.endswith("/messages") or "/messages/" in path:
        fields = {"channel": st.one_of(st.sampled_from(["in_app", "email"]), nasty.scalar()),
                  "status": st.one_of(st.sampled_from(["draft", "live", "paused"]), nasty.scalar()),
                  "kind": nasty.value(), "title": nasty.text(), "subject": nasty.text(),
                  "body": nasty.text(), "audience": filters(), "rules": rules(),
                  "delivery": nasty.value(), "starts_at": nasty.date_value(),
                  "ends_at": nasty.date_value()}  # fmt: skip
        return st.fixed_dictionaries({}, optional=fields)
    return st.dictionaries(nasty.text(), nasty.value(), max_size=3)


LIVE = ["current_page_url", "time_on_current_page", "current_session_duration",
        "interacted_in_current_session", "plan"]  # fmt: skip


def rules() -> st.SearchStrategy[Any]:
    one = st.fixed_dictionaries(
        {
            "attribute": st.one_of(st.sampled_from(LIVE), nasty.text()),
            "op": st.one_of(st.sampled_from(["eq", "contains", "gte", "lte"]), nasty.text()),
            "value": nasty.value(),
        }
    )
    groups = st.recursive(
        one,
        lambda inner: st.dictionaries(
            st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3), min_size=1
        ),
        max_leaves=6,
    )
    return st.one_of(groups, nasty.value())


def request_for(method: str, path: str) -> st.SearchStrategy[tuple[str, bytes]]:
    params = re.findall(r"\{(\w+)\}", path)
    url = st.fixed_dictionaries({p: path_value() for p in params}).map(
        lambda values: re.sub(r"\{(\w+)\}", lambda m: values[m[1]], path)
    )
    body = st.one_of(
        body_for(method, path).map(lambda b: nasty.to_json(b).encode()),
        st.sampled_from([nasty.DEEP_LIST, nasty.DEEP_OBJECT]).map(lambda r: r.text.encode()),
        st.sampled_from([b"\xff\xfe", b'{"a": "\\ud800"}', b"{", b'"' + b"x" * 100_000 + b'"']),
    )
    return st.tuples(url, body)


def known_requests(method: str, path: str) -> list[tuple[str, bytes]]:
    """The shapes issue 8 reported, sent on every run whatever hypothesis draws."""
    # Nasty ids in the address (with a plain body), then nasty bodies at a real id.
    known = [
        (re.sub(r"\{\w+\}", v, path), b"{}") for v in ("%00", "a%00b", "%ED%A0%80", "x" * 1001)
    ]
    url = re.sub(r"\{\w+\}", SEEDED["message"] if "/messages/" in path else "u1", path)
    bodies: list[Any] = [nasty.DEEP_LIST, nasty.DEEP_OBJECT, {"x": nasty.HUGE}]
    if path.endswith(("/users/search", "/users/count")):
        days = ("9999-12-31", "0001-01-01")
        on = [
            {"attribute": a, "op": "on", "value": d}
            for a in ("last_seen_at", "renewal_at")
            for d in days
        ]
        bodies += [{"search": t} for t in (nasty.HUGE, "\ud800", "a\x00b")]
        bodies += [{"filter": f} for f in on]
        bodies += [{"filter": {"attribute": "plan", "op": "eq", "value": "a\x00b"}}]
    if path.endswith("/users/search"):
        forged = [[[1, 2], "x"], [1e308, "x"], [{"dt": "9999-12-31T23:59:59+00:00"}, "x"],
                  [1, "\x00"]]  # fmt: skip
        for sort in (None, "last_seen_at", "seats", "plan", "total_visits"):
            by = {"attribute": sort} if sort else None
            bodies += [{"sort": by, "cursor": nasty.encode_cursor(f)} for f in forged]
    if path.endswith("/users") or (method == "PUT" and "/users/" in path):
        bodies += [{"id": "u9", "renewal_at": d} for d in nasty.EDGE_DATES]
        bodies += [{"id": "u9", "plan": t} for t in nasty.NASTY_TEXT]
    if path.endswith("/activity"):
        bodies += [{"type": "call", "at": d} for d in nasty.EDGE_DATES]
    if path.endswith("/reports"):
        for interval in ("day", "week", "month"):
            bodies += [
                {"kind": "timeseries", "attribute": "renewal_at", "interval": interval,
                 "from": d, "to": e}
                for d in nasty.EDGE_DATES for e in ("9999-12-30", "0001-01-02")
            ]  # fmt: skip
        bodies += [
            {"kind": "histogram", "attribute": "seats", "bins": b, "min": lo, "max": hi}
            for b in (0, 10**9, 1e308)
            for lo, hi in ((1e308, -1e308), (None, None))
        ]
        bodies += [{"kind": "breakdown", "attribute": a, "limit": 10**12} for a in ("plan", "\x00")]
        bodies += [{"kind": "breakdown", "attribute": "plan", "filter": {"segment": s}}
                   for s in (10**30, -1, "x", None)]  # fmt: skip
    if path.endswith("/segments") or "/segments/" in path:
        bodies += [{"name": t, "filter": {"attribute": "plan", "op": "eq", "value": "pro"}}
                   for t in nasty.NASTY_TEXT]  # fmt: skip
        bodies += [{"name": "s", "filter": {"segment": s}} for s in (10**30, "x", [])]
    if path.endswith("/messages") or "/messages/" in path:
        base = {"channel": "in_app", "kind": "announcement", "title": "t", "body": "b"}
        bodies += [{**base, "starts_at": d, "ends_at": e}
                   for d in nasty.EDGE_DATES for e in ("9999-12-31", "0001-01-01")]  # fmt: skip
        bodies += [{**base, field: t} for field in ("title", "body", "kind", "status")
                   for t in nasty.NASTY_TEXT]  # fmt: skip
        on_page = {"attribute": "time_on_current_page", "op": "gte"}
        big = (1e308, -1e308, 10**30, True)
        bodies += [{**base, "rules": {**on_page, "value": v}} for v in big]
        bodies += [{**base, "audience": {"segment": s}} for s in (10**30, -1, "x")]
        bodies += [{**base, "rules": nasty.DEEP_OBJECT}, {**base, "status": "archived"}]
    return known + [(url, nasty.to_json(body).encode()) for body in bodies]


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_nasty_inputs_never_answer_5xx(method, path, seeded_key, client):
    for url, data in known_requests(method, path):
        call(client, seeded_key, method, url, data)

    @given(request=request_for(method, path))
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
    def each(request: tuple[str, bytes]) -> None:
        url, data = request
        call(client, seeded_key, method, url, data)

    each()


def test_examples_do_not_share_database_state(seeded_key, client):
    """What one example changes is gone before the next one (the savepoint)."""
    call(client, seeded_key, "DELETE", "/api/v1/users/u1", b"")
    r = call(client, seeded_key, "GET", "/api/v1/users/u1", b"")
    assert r.status_code == 200
