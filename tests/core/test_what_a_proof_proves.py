"""A proof vouches for the values it was computed over and nothing else (SPEC §6)."""

from __future__ import annotations

import pytest

from pavior.core.attributes import Trust
from pavior.core.identity import (
    may_attach_by_email,
    prove_claims,
    prove_hash,
    unverified_call_refused,
    user_hash,
)

S = "s" * 64


def test_a_hash_over_the_id_proves_the_id_not_the_email() -> None:
    proof = prove_hash([S], "u1", "a@x.io", user_hash(S, "u1"))
    assert (proof.verified, proof.email) == (True, None)


def test_a_hash_over_the_email_proves_the_email() -> None:
    proof = prove_hash([S], None, "a@x.io", user_hash(S, "a@x.io"))
    assert (proof.verified, proof.email) == (True, "a@x.io")
    # The same hash sent along with an id is over the wrong value.
    assert not prove_hash([S], "u1", "a@x.io", user_hash(S, "a@x.io")).verified


@pytest.mark.parametrize(
    ("user_id", "email", "claims", "verified"),
    [
        ("u1", None, {"user_id": "u1"}, True),
        ("42", None, {"user_id": 42}, True),  # a numeric id means the same text
        ("u1", None, {"user_id": "u2"}, False),
        ("u1", None, {"email": "a@x.io"}, False),  # nothing signed the id
        (None, "a@x.io", {"user_id": "u1", "email": "a@x.io"}, False),
        (None, "a@x.io", {"email": "a@x.io"}, True),
        ("u1", "a@x.io", {"user_id": "u1", "email": "b@x.io"}, False),
        (None, "a@x.io", {"exp": 1}, False),
        ("u1", None, {"user_id": True}, False),
    ],
)
def test_the_claims_must_name_the_calls_user(user_id, email, claims, verified) -> None:
    assert prove_claims(user_id, email, claims).verified is verified


def test_signed_claims_prove_the_email_and_carry_attributes() -> None:
    claims = {"user_id": "u1", "email": "a@x.io", "exp": 1, "iat": 0, "plan": "pro"}
    proof = prove_claims("u1", None, claims)
    assert (proof.email, proof.claimed_email, proof.attributes) == (
        "a@x.io",
        "a@x.io",
        {"plan": "pro"},
    )


def test_only_server_trust_or_a_proven_email_attaches() -> None:
    assert may_attach_by_email(Trust.SECRET, "a@x.io", None)
    assert may_attach_by_email(Trust.IMPORT, "a@x.io", None)
    assert may_attach_by_email(Trust.BROWSER, "a@x.io", "a@x.io")
    assert not may_attach_by_email(Trust.BROWSER, "a@x.io", None)
    assert not may_attach_by_email(Trust.BROWSER, "a@x.io", "b@x.io")


def test_a_verified_user_refuses_unverified_browser_calls_unless_off() -> None:
    assert unverified_call_refused("optional", Trust.BROWSER, False, True)
    assert not unverified_call_refused("optional", Trust.BROWSER, True, True)
    assert not unverified_call_refused("optional", Trust.BROWSER, False, False)
    assert not unverified_call_refused("off", Trust.BROWSER, False, True)
    assert not unverified_call_refused("optional", Trust.SECRET, False, True)
