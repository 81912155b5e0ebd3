"""Domain errors.

Each error carries a machine ``code``, a suggested HTTP ``status`` and the
``field`` it is about, so the API can render
``{"error": {"code", "message", "field"}}`` without knowing the rules.
"""

from __future__ import annotations


class PaviorError(Exception):
    code: str = "invalid"
    status: int = 422

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            # Instance attribute shadows the class default for this one error.
            self.code = code

    def __str__(self) -> str:
        return self.message


class InvalidName(PaviorError):
    code = "invalid_name"


class InvalidType(PaviorError):
    """A bad or forbidden attribute type at definition time."""

    code = "invalid_type"


class InvalidValue(PaviorError):
    """A value that does not fit the attribute's type."""

    code = "invalid_value"


class ReadOnlyAttribute(PaviorError):
    code = "read_only_attribute"


class UnknownAttribute(PaviorError):
    code = "unknown_attribute"


class LiveAttribute(PaviorError):
    code = "live_attribute"


class InvalidFilter(PaviorError):
    code = "invalid_filter"


class InvalidCursor(PaviorError):
    """A cursor this API did not return (or not for this sort): the request is
    malformed rather than a value that does not fit, hence 400."""

    code = "invalid_cursor"
    status = 400


class LimitExceeded(PaviorError):
    code = "limit_exceeded"


class NotFound(PaviorError):
    code = "not_found"
    status = 404


class Conflict(PaviorError):
    code = "conflict"
    status = 409


def show_value(value: object, limit: int = 60) -> str:
    """A short, unambiguous rendering of a client-supplied value for messages.

    Strings are double-quoted (so "" and " " are visible), long values are cut
    at ``limit`` characters, and nothing here can raise.
    """
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "…"
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    try:
        text = repr(value)
    except ValueError:  # an int with more digits than Python will print
        return "a very large number"
    return text if len(text) <= limit else text[:limit] + "…"
