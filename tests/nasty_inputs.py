"""Hypothesis strategies for the inputs that once answered 500 (issue 8, SPEC §10):
dates at the calendar's ends, deep nesting, NUL and lone surrogates, huge
strings, forged cursors. Shared by the REST and the intake fuzz tests.

A value is either JSON-able (sent with json.dumps, whose ASCII escapes carry
lone surrogates and NUL to the server intact) or a ``Raw`` fragment of JSON
text spliced in where it sits (nesting 3,000 deep cannot be built as Python
objects and dumped).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """JSON text to splice in as is."""

    text: str


DEEP = 3000
DEEP_LIST = Raw("[" * DEEP + "]" * DEEP)
DEEP_OBJECT = Raw('{"a":' * DEEP + "1" + "}" * DEEP)
HUGE = "x" * 100_000

EDGE_DATES: list[Any] = [
    "0001-01-01",
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "0001-01-02",
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59.999999-12:00",
    "9999-12-30T23:59:59Z",
    "10000-01-01",
    "2024-02-30",
    "2024-05-01T24:00:00Z",
    "2024-05-01T12:00:00+99:00",
    0,
    -1,
    -62135596800,
    -62135596801,
    253402300799,
    253402300800,
    253402300799999,
    10**20,
    -(10**20),
    2**64,
    1e308,
    -1e308,
    5e-324,
    "1e308",
    "9" * 400,
    "",
    " ",
    None,
    True,
]

NASTY_TEXT: list[str] = [
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ud83d",  # half an emoji
    HUGE,
    '=HYPERLINK("http://x")',
    "+cmd",
    "@SUM(A1)",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "\u202e",
    "ünïcödé",
    "",
    " ",
]


def text() -> st.SearchStrategy[str]:
    # Surrogates (category Cs) included: st.text leaves them out by default.
    any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
    return st.one_of(st.sampled_from(NASTY_TEXT), any_text)


def scalar() -> st.SearchStrategy[Any]:
    return st.one_of(
        text(),
        st.sampled_from(EDGE_DATES),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )


def value() -> st.SearchStrategy[Any]:
    """Any JSON value with nasty leaves, a little nesting, or a deep Raw."""
    return st.one_of(
        scalar(),
        st.sampled_from([DEEP_LIST, DEEP_OBJECT]),
        st.lists(scalar(), max_size=3),
        st.dictionaries(text(), scalar(), max_size=3),
    )


def date_value() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(EDGE_DATES), scalar())


def encode_cursor(v: Any) -> str:
    """Any JSON as a cursor is encoded (base64 of JSON), to forge one; Raw
    fragments anywhere inside (deep nesting) are spliced in as they are."""
    raw = to_json(v).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged_cursor() -> st.SearchStrategy[Any]:
    encode = encode_cursor

    shapes = st.one_of(
        st.tuples(value(), text()).map(list),
        st.sampled_from(
            [
                [[1, 2], "x"],
                [1e308, "x"],
                [{"dt": "9999-12-31T23:59:59+00:00"}, "x"],
                [{"dt": "nope"}, "x"],
                [1, "\x00"],
                [2**70, "x"],
            ]
        ),
        value(),
    )
    return st.one_of(
        shapes.map(encode),
        text(),
    )


def to_json(data: Any) -> str:
    """``data`` as JSON text, with any Raw fragments spliced in."""
    fragments: dict[str, str] = {}

    def swap(v: Any) -> Any:
        if isinstance(v, Raw):
            key = f"@@raw{len(fragments)}@@"
            fragments[key] = v.text
            return key
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v

    out = json.dumps(swap(data))
    for key, fragment in fragments.items():
        out = out.replace(json.dumps(key), fragment)
    return out
