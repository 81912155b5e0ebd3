"""Signed unsubscribe tokens (SPEC §13): they name the workspace, the user and the message.

Made with Django's signing (HMAC-SHA256 over the payload with the secret
key and a salt only this module uses), compact and URL-safe. A token proves
only what it was computed over: reading one gives back exactly those three
ids, and the caller checks they still exist and belong together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

_SALT = "pavior.messaging.unsubscribe"
MAX_TOKEN_LENGTH = 300


class BadToken(Exception):
    """Unknown, tampered or malformed: the page says so, nothing changes."""


@dataclass(frozen=True)
class Claims:
    workspace_id: int
    person_id: int
    message_id: int


def make_token(workspace_id: int, person_id: int, message_id: int) -> str:
    return signing.dumps([workspace_id, person_id, message_id], salt=_SALT, compress=False)


def read_token(token: str) -> Claims:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise BadToken("This unsubscribe link is not valid")
    try:
        data = signing.loads(token, salt=_SALT)
    except (signing.BadSignature, ValueError, UnicodeDecodeError) as exc:
        raise BadToken("This unsubscribe link is not valid") from exc
    if (
        not isinstance(data, list)
        or len(data) != 3
        or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in data)
    ):
        raise BadToken("This unsubscribe link is not valid")
    return Claims(*data)
