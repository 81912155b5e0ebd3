"""Identity verification, SPEC §6: user_hash = hex(HMAC-SHA256(secret, id)),
or user_jwt (HS256, signed with an identity secret), and what each proves.

The token's signature is checked in pavior.tracking.user_jwt (PyJWT; the core
imports no third-party package); what its claims prove is decided here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .attributes import Trust


def user_hash(secret: str, identifier: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``identifier`` keyed with ``secret``."""
    return _digest(secret, identifier)


def _digest(secret: str, identifier: str) -> str:
    # surrogatepass: an unpaired surrogate (possible in JSON input) must give
    # a hash that simply does not match, not an exception.
    key = secret.encode("utf-8", "surrogatepass")
    msg = identifier.encode("utf-8", "surrogatepass")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def verify_user_hash(secrets: Iterable[str], identifier: str, given: object) -> bool:
    """Whether ``given`` is the user_hash of ``identifier`` under any secret.

    Every secret is compared, with no early exit, so the time taken does not
    tell which secret (or whether any) matched.
    """
    if not isinstance(given, str):
        return False
    # compare_digest refuses non-ASCII str; bytes always compare. Surrogates
    # (possible from JSON) must not raise either.
    given_bytes = given.encode("utf-8", "surrogatepass")
    ok = False
    for secret in secrets:
        expected = _digest(secret, identifier).encode()
        ok |= hmac.compare_digest(expected, given_bytes)
    return ok


def new_secret() -> str:
    """A 256-bit identity-verification secret as 64 hex characters."""
    return _secrets.token_hex(32)


# --- what a browser call proves (SPEC §6) -------------------------------------------

# Registered JWT claims and the identity claims: never written as attributes.
_NOT_ATTRIBUTES = frozenset(
    {"user_id", "email", "exp", "iat", "nbf", "iss", "aud", "sub", "jti", "user_hash", "id"}
)


@dataclass(frozen=True)
class Proof:
    """What one browser call proved about who it is.

    A hash or token vouches for the values it was computed over and nothing
    else: ``email`` is the email this call proved (hash over the email when
    there is no id, or a signed ``email`` claim), None when the email it
    carries, if any, is only claimed.
    """

    verified: bool
    email: str | None = None
    # The user_jwt's email claim, for a call that did not send an email itself.
    claimed_email: str | None = None
    # The user_jwt's other claims: attributes the site signed for this user.
    attributes: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why the call is not verified (for the refusal)


def prove_hash(
    secrets: Iterable[str], user_id: str | None, email: str | None, user_hash: str | None
) -> Proof:
    """What a call's user_hash proves: the id, or the email when there is no id."""
    if user_hash is None:
        return Proof(verified=False, problem="no user_hash or user_jwt")
    key = user_id or email
    if not key or not verify_user_hash(secrets, key, user_hash):
        return Proof(verified=False, problem="an invalid user_hash")
    # The hash is over the id when there is one: then it proves nothing about the email.
    return Proof(verified=True, email=email if user_id is None else None)


def prove_claims(user_id: str | None, email: str | None, claims: dict[str, Any]) -> Proof:
    """What the claims of a user_jwt whose signature and expiry were checked
    prove for a call naming ``user_id`` and ``email``.

    The user_id claim must be the call's id (both absent for an email-only
    call, which then needs the email claim); an email claim must be the
    call's email, or fills it in when the call has none.
    """
    signed_id = _claim_text(claims.get("user_id"))
    signed_email = _claim_text(claims.get("email"))
    if signed_id != user_id:
        return Proof(verified=False, problem="a user_jwt whose user_id claim is not the call's id")
    if signed_email is not None and email is not None and signed_email != email:
        return Proof(verified=False, problem="a user_jwt whose email claim is not the call's email")
    if user_id is None and signed_email is None:
        return Proof(verified=False, problem="a user_jwt with neither user_id nor email claim")
    attributes = {k: v for k, v in claims.items() if k not in _NOT_ATTRIBUTES}
    return Proof(
        verified=True,
        email=signed_email,
        claimed_email=signed_email if email is None else None,
        attributes=attributes,
    )


def _claim_text(value: object) -> str | None:
    """A user_id or email claim as the intake reads ids: numbers are their text."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else f"<{type(value).__name__}>"


def unverified_call_refused(
    mode: str, trust: Trust, call_verified: bool, user_verified: bool
) -> bool:
    """SPEC §6: once a user has been verified, an unverified browser call for them
    is refused, in `optional` mode as in `required` (where every unverified
    identified call already is). With verification `off` nothing is verified."""
    return trust is Trust.BROWSER and mode != "off" and user_verified and not call_verified


def may_read_messages(mode: str, call_verified: bool) -> bool:
    """SPEC §6, §12: whether a browser session may read the user's own in-site
    messages (and change their email subscription from the bubble). With
    verification `off` every session may; in `optional` and `required` only a
    verified one: an unverified session must not read someone else's messages
    by naming their id."""
    return mode == "off" or call_verified


def may_attach_by_email(trust: Trust, email: str | None, proven_email: str | None) -> bool:
    """Whether a write carrying ``email`` may use it to find an existing user
    (and give that email to the call's user when it is someone else's).

    Server trust may merge by email (SPEC §1). A browser call only when this
    very email is proven; otherwise its user keeps their id and the email
    stays where it was.
    """
    return trust is not Trust.BROWSER or (email is not None and email == proven_email)
