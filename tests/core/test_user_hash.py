from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from pavior.core.identity import new_secret, user_hash, verify_user_hash

KNOWN = "aa747c502a898200f9e4fa21bac68136f886a0e27aec70ba06daf2e2a5cb5597"


def test_known_answer_from_the_spec() -> None:
    assert user_hash("secret", "Message") == KNOWN


def test_any_active_secret_verifies() -> None:
    assert verify_user_hash(["other", "secret"], "Message", KNOWN)
    assert verify_user_hash(["secret", "other"], "Message", KNOWN)


def test_wrong_or_revoked_secret_or_identifier_does_not_verify() -> None:
    assert not verify_user_hash(["other"], "Message", KNOWN)
    assert not verify_user_hash([], "Message", KNOWN)
    assert not verify_user_hash(["secret"], "message", KNOWN)
    assert not verify_user_hash(["secret"], "Message", KNOWN.upper())
    assert not verify_user_hash(["secret"], "Message", KNOWN[:-1])


def test_non_strings_and_odd_text_are_false_not_errors() -> None:
    for given_value in (None, 42, KNOWN.encode(), [KNOWN], "é" * 64, "\ud800"):
        assert verify_user_hash(["secret"], "Message", given_value) is False
    assert verify_user_hash(["secret"], "\ud800", KNOWN) is False


def test_new_secret_is_256_bits_of_hex() -> None:
    a, b = new_secret(), new_secret()
    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert a != b


@given(st.text(), st.text())
def test_a_hash_verifies_for_its_own_secret_and_identifier(secret: str, identifier: str) -> None:
    h = user_hash(secret, identifier)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert verify_user_hash([secret], identifier, h)
