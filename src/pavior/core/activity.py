"""Non-website activity (POST /users/{id}/activity): what an activity type may be."""

from __future__ import annotations

from pavior.core.errors import InvalidValue

MAX_ACTIVITY_TYPE_LENGTH = 100  # the raw events' type column


def valid_activity_type(value: object) -> str:
    """The activity type as stored, or a clear error: never silently cut."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ACTIVITY_TYPE_LENGTH:
        raise InvalidValue(
            f"type is a name of 1 to {MAX_ACTIVITY_TYPE_LENGTH} characters, e.g. email_received",
            field="type",
        )
    return value
