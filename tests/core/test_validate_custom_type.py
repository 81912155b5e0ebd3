from __future__ import annotations

import pytest

from pavior.core.attributes import AttrType, infer_type, requires_date, validate_custom_type
from pavior.core.errors import InvalidType, InvalidValue


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("createdAt", True),
        ("renewal_at", True),
        ("startsOn", True),
        ("renewal_on", True),
        ("format", False),  # ends in "at" but not "At" / "_at"
        ("created_At", True),
        ("created_AT", False),
        ("CREATED_ON", False),
        ("button", False),
        ("plan", False),
    ],
)
def test_requires_date_by_case_sensitive_suffix(name: str, expected: bool) -> None:
    assert requires_date(name) is expected


@pytest.mark.parametrize(
    "type_", ["string", "number", "date", "boolean", AttrType.NUMBER, " Date "]
)
def test_known_types_are_accepted(type_: object) -> None:
    assert validate_custom_type("plan", type_) in set(AttrType)


@pytest.mark.parametrize("type_", ["text", "", None, 3, "datetime", ["string"]])
def test_unknown_type_lists_the_four(type_: object) -> None:
    with pytest.raises(InvalidType) as info:
        validate_custom_type("plan", type_)
    assert info.value.field == "type"
    assert "string, number, date, boolean" in info.value.message


def test_date_suffix_name_must_be_a_date() -> None:
    with pytest.raises(InvalidType) as info:
        validate_custom_type("createdAt", "string")
    assert info.value.message == "'createdAt' ends with 'At', so it must be a date (not string)"
    assert info.value.field == "type"
    assert validate_custom_type("createdAt", "date") is AttrType.DATE
    assert validate_custom_type("renewal_on", "date") is AttrType.DATE


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("plan", "pro", AttrType.STRING),
        ("seats", 3, AttrType.NUMBER),
        ("price", 9.5, AttrType.NUMBER),
        ("vip", True, AttrType.BOOLEAN),
        ("vip", False, AttrType.BOOLEAN),
        ("trialEndsAt", "2024-05-01", AttrType.DATE),
        ("renewal_on", 1714564800, AttrType.DATE),
        ("created_at", "not even a date", AttrType.DATE),  # coercion refuses it later
    ],
)
def test_infer_type(name: str, value: object, expected: AttrType) -> None:
    assert infer_type(name, value) is expected


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, object()])
def test_infer_type_refuses_other_json(value: object) -> None:
    with pytest.raises(InvalidValue) as info:
        infer_type("plan", value)
    assert info.value.field == "plan"
