from __future__ import annotations

from pavior.core.profile import derive_names


def test_name_from_first_and_last() -> None:
    assert derive_names({"first_name": "Ada", "last_name": "Lovelace"})["name"] == "Ada Lovelace"
    assert derive_names({"first_name": " Ada ", "last_name": None})["name"] == "Ada"
    assert derive_names({"last_name": "Lovelace"})["name"] == "Lovelace"


def test_no_name_without_parts() -> None:
    assert derive_names({"email": "a@b.c"}) == {"email": "a@b.c"}
    assert "name" not in derive_names({"first_name": None, "last_name": None})
    assert "name" not in derive_names({"first_name": "  "})


def test_first_and_last_from_name() -> None:
    out = derive_names({"name": "Ada King Lovelace"})
    assert out == {"name": "Ada King Lovelace", "first_name": "Ada", "last_name": "King Lovelace"}


def test_single_word_name_has_no_last_name() -> None:
    assert derive_names({"name": "Cher"}) == {
        "name": "Cher",
        "first_name": "Cher",
        "last_name": None,
    }


def test_given_keys_are_never_overwritten_even_with_none() -> None:
    given: dict[str, object] = {"name": "Ada Lovelace", "first_name": "Augusta", "last_name": None}
    assert derive_names(given) == given
    assert derive_names({"name": None, "first_name": "Ada"}) == {"name": None, "first_name": "Ada"}
    out = derive_names({"name": "Ada Lovelace", "first_name": "Augusta"})
    assert out == {"name": "Ada Lovelace", "first_name": "Augusta", "last_name": "Lovelace"}


def test_input_is_not_mutated() -> None:
    values: dict[str, object] = {"name": "Ada Lovelace"}
    derive_names(values)
    assert values == {"name": "Ada Lovelace"}
