"""A saved segment's name: what a team member types, checked the same at every door."""

from __future__ import annotations

import unicodedata

from .errors import InvalidName, show_value

MAX_SEGMENT_NAME = 100


def clean_segment_name(raw: object) -> str:
    """The name to store: trimmed, 1-100 printable characters.

    Uniqueness ignores case ("VIP" and "vip" would be two rows no one can tell
    apart in a picker); the database's unique index on lower(name) enforces it.
    """
    if not isinstance(raw, str):
        raise InvalidName("A segment's name is text", field="name")
    name = " ".join(raw.split())  # one space between words, none at the ends
    if not name:
        raise InvalidName("A segment needs a name", field="name")
    if len(name) > MAX_SEGMENT_NAME:
        raise InvalidName(
            f"A segment's name is at most {MAX_SEGMENT_NAME} characters; this one has {len(name)}",
            field="name",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise InvalidName(
            f"A segment's name cannot hold control or invisible characters: {show_value(name)}",
            field="name",
        )
    return name
