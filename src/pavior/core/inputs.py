"""Accepted input ranges for lookups: search terms, user ids in a URL, cursors' text.

Values that are *stored* are checked by ``coercion`` (types, lengths, NUL,
surrogates); this module holds the same rules for text that is only looked
up, so that no database ever sees text it cannot compare (PostgreSQL refuses
NUL; neither engine can encode a lone surrogate; SQLite refuses a LIKE
pattern over 50,000 bytes).
"""

from __future__ import annotations

from .errors import InvalidValue

# The longest text a user can have stored (an id, a name, an email): a search
# for more can match nothing, and 1,000 characters of UTF-8 stay far below
# SQLite's LIKE pattern limit.
MAX_TEXT_LENGTH = 1000
MAX_SEARCH_LENGTH = MAX_TEXT_LENGTH


def text_problem(value: str) -> str:
    """Why ``value`` cannot be stored or compared as text; "" when it can."""
    if "\x00" in value:
        return "it contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains an unpaired surrogate, not valid Unicode text"
    return ""


def search_term(raw: str | None) -> str | None:
    """The search text to look for, stripped; None for no search; else a 422."""
    if raw is None:
        return None
    term = raw.strip()
    if len(term) > MAX_SEARCH_LENGTH:
        raise InvalidValue(
            f"search is at most {MAX_SEARCH_LENGTH:,} characters ({len(term):,} given)",
            field="search",
        )
    if problem := text_problem(term):
        raise InvalidValue(f"search cannot be used: {problem}", field="search")
    return term or None


def user_id(raw: str, *, field: str = "id") -> str:
    """A user id taken from a URL, to look a user up by; a 422 if no user could have it."""
    if problem := text_problem(raw):
        raise InvalidValue(f"The user id cannot be used: {problem}", field=field)
    if len(raw) > MAX_TEXT_LENGTH:
        raise InvalidValue(
            f"A user id is at most {MAX_TEXT_LENGTH:,} characters ({len(raw):,} given)",
            field=field,
        )
    return raw
