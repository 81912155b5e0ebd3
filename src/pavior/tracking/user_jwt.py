"""user_jwt (SPEC §6): checking the token's signature and expiry with PyJWT.

What the verified claims prove (the call's id, its email, signed attributes)
is pavior.core.identity.prove_claims; this module only decides whether the
claims may be believed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jwt

from pavior.core.identity import Proof, prove_claims, prove_hash


def prove(
    secrets: list[str],
    user_id: str | None,
    email: str | None,
    *,
    user_hash: str | None = None,
    user_jwt: str | None = None,
) -> Proof:
    """What a browser call proves: its user_jwt when it sent one, else its user_hash."""
    if user_jwt is None:
        return prove_hash(secrets, user_id, email, user_hash)
    claims, problem = decode(secrets, user_jwt)
    if claims is None:
        return Proof(verified=False, problem=problem)
    return prove_claims(user_id, email, claims)


def decode(secrets: Iterable[str], token: str) -> tuple[dict[str, Any] | None, str | None]:
    """The token's claims if an active secret signed it with HS256 and it has not
    expired; else None and what is wrong with it. Every secret is tried."""
    found: dict[str, Any] | None = None
    problem = "a user_jwt signed with no active identity secret"
    for secret in secrets:
        try:
            claims = jwt.decode(
                token,
                key=secret,
                algorithms=["HS256"],  # never "none", never another family
                options={"require": ["exp"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            problem = "an expired user_jwt"
        except jwt.MissingRequiredClaimError:
            problem = "a user_jwt without an exp claim"
        except jwt.InvalidAlgorithmError:
            return None, "a user_jwt not signed with HS256"
        except jwt.InvalidSignatureError:
            continue
        except jwt.InvalidTokenError:  # malformed, bad nbf/iat, not JSON, …
            return None, "an invalid user_jwt (malformed, or not valid yet)"
        else:
            if isinstance(claims, dict) and found is None:
                found = claims
    if found is not None:
        return found, None
    return None, problem
