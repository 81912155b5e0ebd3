from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.attributes import AttributeDef, AttrType, coerce_value, custom_attribute
from pavior.core.errors import InvalidValue

TEXT = custom_attribute("plan", AttrType.STRING)
NUMBER = custom_attribute("plan_price", AttrType.NUMBER)
DATE = custom_attribute("renewal_on", AttrType.DATE)
FLAG = custom_attribute("vip", AttrType.BOOLEAN)
ALL = [TEXT, NUMBER, DATE, FLAG]


def refused(attr: AttributeDef, value: object, **kw: object) -> str:
    with pytest.raises(InvalidValue) as info:
        coerce_value(attr, value, **kw)  # type: ignore[arg-type]
    assert info.value.field == attr.name
    assert info.value.code == "invalid_value"
    return info.value.message


@pytest.mark.parametrize("attr", ALL, ids=lambda a: a.type.value)
def test_none_clears_every_type(attr: AttributeDef) -> None:
    assert coerce_value(attr, None) is None
    assert coerce_value(attr, "") is None


# --- string


def test_strings_are_kept_exactly() -> None:
    assert coerce_value(TEXT, "  pro  ") == "  pro  "
    assert coerce_value(TEXT, " ") == " "
    assert coerce_value(TEXT, "日本") == "日本"


def test_numbers_become_their_json_text() -> None:
    assert coerce_value(TEXT, 42) == "42"
    assert coerce_value(TEXT, -4.5) == "-4.5"
    assert coerce_value(TEXT, 1e-7) == "1e-07"


@pytest.mark.parametrize("value", [True, False, [1], {"a": 1}, float("nan"), float("inf"), b"x"])
def test_string_refuses_other_kinds(value: object) -> None:
    assert refused(TEXT, value).startswith('Attribute "plan" is a string; ')


def test_string_length_limit() -> None:
    assert coerce_value(TEXT, "x" * 1000) == "x" * 1000
    message = refused(TEXT, "x" * 1001)
    assert "1,000-character limit" in message and "1,001 characters" in message
    assert coerce_value(TEXT, "x" * 20, max_string_length=20)
    assert "20-character limit" in refused(TEXT, "x" * 21, max_string_length=20)


def test_string_refuses_text_a_database_cannot_store() -> None:
    assert "NUL" in refused(TEXT, "a\x00b")
    assert "surrogate" in refused(TEXT, "a\ud800b")


# --- number


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (42, 42),
        (4.5, 4.5),
        ("42", 42),
        (" 4.5 ", 4.5),
        ("-1e3", -1000.0),
        ("+7", 7),
        ("1.", 1.0),
        (".5", 0.5),
        ("1.0", 1.0),
        ("-0", 0),
        (" ", None),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_numbers(value: object, expected: object) -> None:
    result = coerce_value(NUMBER, value)
    assert result == expected
    assert type(result) is type(expected)


def test_number_error_message_names_attribute_type_and_value() -> None:
    assert refused(NUMBER, "abc") == 'Attribute "plan_price" is a number; "abc" is not a number'


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        "abc",
        "1_000",
        "1,5",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "0x10",
        "١٢",
        "1e400",
        float("nan"),
        float("inf"),
        -float("inf"),
        2**63,
        -(2**63) - 1,
        [1],
        "1 2",
        "e5",
    ],
)
def test_number_refuses(value: object) -> None:
    assert refused(NUMBER, value).startswith('Attribute "plan_price" is a number; ')


def test_number_with_a_huge_int_message_does_not_crash() -> None:
    assert "out of the 64-bit integer range" in refused(NUMBER, 10**5000)
    assert "is not a number" in refused(NUMBER, "9" * 5000)


# --- date


def test_dates_become_aware_utc() -> None:
    expected = datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert coerce_value(DATE, "2024-05-01T12:00:00Z") == expected
    assert coerce_value(DATE, "2024-05-01T14:00:00+02:00") == expected
    assert coerce_value(DATE, 1714564800) == expected
    assert coerce_value(DATE, "1714564800000") == expected
    assert coerce_value(DATE, "01/05/2024", day_first=True) == datetime(2024, 5, 1, tzinfo=UTC)
    assert coerce_value(DATE, "  ") is None


def test_date_refusals_say_why() -> None:
    assert refused(DATE, "someday").startswith(
        'Attribute "renewal_on" is a date; "someday" is not a date: '
    )
    assert "ambiguous" in refused(DATE, "03/04/2024")
    assert "out of range" in refused(DATE, "2024-13-01")
    assert (
        refused(DATE, True)
        == 'Attribute "renewal_on" is a date; True is not a date: a boolean is not a date'
    )


# --- boolean


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False),
        ("true", True), ("FALSE", False), (" Yes ", True), ("no", False), ("1", True), ("0", False),
    ],
)  # fmt: skip
def test_booleans(value: object, expected: bool) -> None:
    assert coerce_value(FLAG, value) is expected


@pytest.mark.parametrize("value", [2, -1, 1.0, "y", "on", "t", "truthy", [True]])
def test_boolean_refuses(value: object) -> None:
    assert refused(FLAG, value).startswith('Attribute "vip" is a boolean; ')


def test_boolean_message_lists_accepted_words() -> None:
    assert "true/false, yes/no or 1/0" in refused(FLAG, "maybe")


# --- properties


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integer_text_round_trips(n: int) -> None:
    assert coerce_value(NUMBER, str(n)) == n
    assert coerce_value(NUMBER, f"  {n} ") == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trips(x: float) -> None:
    result = coerce_value(NUMBER, repr(x))
    assert isinstance(result, float | int)
    assert result == x


@given(
    st.booleans(), st.sampled_from([str, lambda b: str(b).upper(), lambda b: "yes" if b else "no"])
)
def test_boolean_text_round_trips(b: bool, spell: object) -> None:
    assert coerce_value(FLAG, spell(b)) is b  # type: ignore[operator]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)


@given(st.sampled_from(ALL), json_values | st.datetimes(timezones=st.just(UTC)))
def test_coercion_is_idempotent_or_refuses(attr: AttributeDef, value: object) -> None:
    try:
        once = coerce_value(attr, value)
    except InvalidValue as exc:
        assert exc.message.startswith(f'Attribute "{attr.name}" is a {attr.type.value}; ')
        return
    assert coerce_value(attr, once) == once
    if isinstance(once, float):
        assert math.isfinite(once)
