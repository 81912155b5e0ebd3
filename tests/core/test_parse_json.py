"""The one JSON reader every door uses: depth, NUL, surrogates, non-JSON numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.json_input import MAX_DEPTH, InvalidJson, parse_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_nesting_up_to_the_limit_is_read() -> None:
    assert parse_json(nested(MAX_DEPTH)) is not None
    assert parse_json(b'{"a": ' * MAX_DEPTH + b"1" + b"}" * MAX_DEPTH) is not None


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 3000, 100_000])
def test_nesting_past_the_limit_is_refused_by_name(depth: int) -> None:
    with pytest.raises(InvalidJson, match=f"nested more than {MAX_DEPTH} levels"):
        parse_json(nested(depth))


def test_wide_documents_with_many_brackets_are_fine() -> None:
    wide = b"[" + b",".join([b'{"a": [1]}'] * 5000) + b"]"
    assert len(parse_json(wide)) == 5000


@pytest.mark.parametrize(
    "body",
    [b'{"a": "x\\u0000"}', b'{"a\\u0000": 1}', b'["ok", ["\\u0000"]]', b'"\\u0000"'],
)
def test_nul_is_refused_anywhere(body: bytes) -> None:
    with pytest.raises(InvalidJson, match="NUL"):
        parse_json(body)


def test_an_escaped_backslash_before_u0000_is_text_not_nul() -> None:
    assert parse_json(b'{"a": "\\\\u0000"}') == {"a": "\\u0000"}


@pytest.mark.parametrize(
    "body", [b'"\\ud83d"', b'"\\udc00x"', b"NaN", b"[Infinity]", b"1e400", b"{", b"", b"\xff"]
)
def test_what_is_not_storable_json_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_json(body)


def test_a_str_with_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(InvalidJson, match="surrogate"):
        parse_json('"\ud83d"')


def test_paired_surrogates_are_one_character() -> None:
    assert parse_json(b'"\\ud83d\\ude00"') == "\U0001f600"


def _depth(value: object) -> int:
    """Containers nested in `value`, the plain recursive way (for comparison)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_documents = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=4)
    ),
    max_leaves=40,
)


@given(document=_documents, limit=st.integers(min_value=0, max_value=8))
def test_the_depth_check_agrees_with_a_plain_recursive_count(document: object, limit: int) -> None:
    from pavior.core.json_input import _depth_over

    assert _depth_over(document, limit) == (_depth(document) > limit)
