from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pavior.core.attributes import render_name


@pytest.mark.parametrize(
    ("name", "rendered"),
    [
        ("is_active_affiliate", "Is Active Affiliate"),
        ("twitterHandle", "Twitter Handle"),
        ("userID", "User ID"),
        ("plan2", "Plan 2"),
        ("HTMLParser", "HTML Parser"),
        ("myURLValue", "My URL Value"),
        ("__x__", "X"),
        ("plan", "Plan"),
        ("Plan", "Plan"),
        ("ID", "ID"),
        ("last_seen_at", "Last Seen At"),
        ("x86_64", "X 86 64"),
        ("a__b", "A B"),
        ("iPhone", "I Phone"),
        ("user2FA", "User 2 FA"),
        ("ABCdef", "AB Cdef"),
    ],
)
def test_rendered_names(name: str, rendered: str) -> None:
    assert render_name(name) == rendered


def test_only_the_first_letter_of_each_word_changes() -> None:
    assert render_name("mRNA_count") == "M RNA Count"
    assert render_name("eBay") == "E Bay"


valid_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,63}", fullmatch=True).filter(
    lambda n: re.search(r"[A-Za-z0-9]", n) is not None
)


@given(valid_names)
def test_rendered_name_is_never_empty_and_only_words(name: str) -> None:
    rendered = render_name(name)
    assert rendered
    assert re.fullmatch(r"[A-Za-z0-9]+( [A-Za-z0-9]+)*", rendered)
    assert rendered[0] == rendered[0].upper()


@given(valid_names)
def test_rendered_name_keeps_every_letter_and_digit_in_order(name: str) -> None:
    kept = render_name(name).replace(" ", "")
    assert kept.casefold() == name.replace("_", "").casefold()


@given(valid_names)
def test_rendering_a_rendered_name_joined_by_underscores_is_stable(name: str) -> None:
    once = render_name(name)
    assert render_name(once.replace(" ", "_")) == once


@given(st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=5))
def test_snake_case_and_camel_case_render_the_same(words: list[str]) -> None:
    snake = "_".join(words)
    camel = words[0] + "".join(w.capitalize() for w in words[1:])
    assert render_name(snake) == render_name(camel) == " ".join(w.capitalize() for w in words)
