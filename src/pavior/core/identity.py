"""Identity verification, SPEC §6: user_hash = hex(HMAC-SHA256(secret, id))."""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable


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
