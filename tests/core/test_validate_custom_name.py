from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.attributes import validate_custom_name
from pavior.core.errors import InvalidName


def refusal(name: object, existing: list[str] | None = None) -> str:
    with pytest.raises(InvalidName) as info:
        validate_custom_name(name, existing or [])
    assert info.value.field == "name"
    assert info.value.code == "invalid_name"
    return info.value.message


@pytest.mark.parametrize("name", ["plan", "x", "_private", "Plan_2", "a" * 64, "userID", "z9"])
def test_valid_names_are_returned(name: str) -> None:
    assert validate_custom_name(name) == name


def test_not_a_string() -> None:
    assert "must be a string" in refusal(42)
    assert "must be a string" in refusal(None)


def test_empty() -> None:
    assert "must not be empty" in refusal("")


def test_too_long() -> None:
    message = refusal("a" * 65)
    assert "at most 64 characters" in message and "has 65" in message


def test_bad_character_is_named() -> None:
    assert refusal("my-attr") == (
        "Attribute names may only contain letters, digits and underscores; \"my-attr\" contains '-'"
    )
    assert "contains ' '" in refusal("my attr")
    assert "contains '.'" in refusal("address.city")


def test_non_ascii_letters_are_refused() -> None:
    assert "contains 'é'" in refusal("café")
    assert "contains '٣'" in refusal("plan٣")  # an Arabic-Indic digit


def test_leading_digit() -> None:
    assert refusal("2fa") == 'Attribute names may not start with a digit; "2fa" does'


def test_underscores_only_would_render_empty() -> None:
    assert "must contain a letter or digit" in refusal("___")


def test_builtin_api_name() -> None:
    assert refusal("email") == '"email" is a built-in attribute'
    assert "built-in" in refusal("last_seen_at")


def test_same_rendering_as_a_builtin_rendered_name() -> None:
    message = refusal("lastSeen")
    assert "'Last Seen'" in message and "last_seen_at" in message


def test_same_rendering_as_a_builtin_api_name() -> None:
    assert "last_seen_at" in refusal("lastSeenAt")
    assert "email" in refusal("Email")


def test_same_rendering_as_an_existing_attribute_names_it() -> None:
    message = refusal("twitter_handle", ["plan", "twitterHandle"])
    assert "Twitter Handle" in message and "'twitterHandle'" in message
    assert "twitterHandle" in refusal("Twitter_handle", ["twitterHandle"])


def test_case_only_difference_is_refused() -> None:
    assert "'plan'" in refusal("Plan", ["plan"])


def test_exact_duplicate() -> None:
    assert "already exists" in refusal("plan", ["plan"])


def test_existing_names_may_be_any_iterable() -> None:
    assert validate_custom_name("plan", iter(["price"])) == "plan"
    with pytest.raises(InvalidName):
        validate_custom_name("plan", (n for n in ["plan"]))


@given(st.text(max_size=80))
def test_any_text_is_either_accepted_or_refused_cleanly(name: str) -> None:
    try:
        assert validate_custom_name(name) == name
    except InvalidName as exc:
        assert exc.message
