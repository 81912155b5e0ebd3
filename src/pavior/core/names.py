"""Attribute names: how they are shown and which ones need a date type.

Kept apart from ``attributes`` because rendering is pure text work that the
admin pages and the CSV header matcher use on their own.
"""

from __future__ import annotations

import re

# Within a chunk between underscores: an acronym followed by a capitalised
# word ("HTMLParser" -> "HTML", "Parser"), a (capitalised) lower-case word, a
# trailing acronym ("userID" -> "ID"), or a run of digits ("plan2" -> "2").
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

DATE_SUFFIXES = ("At", "_at", "On", "_on")


def render_name(name: str) -> str:
    """The name every page shows, e.g. ``userID`` -> ``User ID``.

    Only the first letter of each word is changed, so acronyms stay whole.
    """
    words = _WORD.findall(name)
    return " ".join(w[0].upper() + w[1:] for w in words)


def date_suffix(name: str) -> str | None:
    """The suffix that makes ``name`` a date attribute, if any."""
    for suffix in DATE_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return None


def requires_date(name: str) -> bool:
    """Names ending in ``At``, ``_at``, ``On`` or ``_on`` must be dates."""
    return date_suffix(name) is not None
