"""A user's stored values as one mapping, for matching filters in memory.

`pavior.core.matching` evaluates a filter against API name -> stored value;
every caller builds that mapping here, from the Person row, so they all see
the user the way the SQL compiler does (`pavior.segments.queries`): built-ins
from their typed columns, custom values as kept in the JSON column (dates as
epoch seconds).
"""

from __future__ import annotations

from typing import Any

from pavior.core.matching import Dialect
from pavior.people.models import Person
from pavior.people.queries import BUILTIN_COLUMNS

# Fields read for matching; `only(*MATCH_FIELDS)` loads no more than needed.
MATCH_FIELDS: tuple[str, ...] = (*BUILTIN_COLUMNS.values(), "custom")
_PAIRS = tuple(BUILTIN_COLUMNS.items())


def person_values(person: Person) -> dict[str, Any]:
    """API name -> stored value: every built-in, then the custom values.

    A custom key never shadows a built-in (custom names cannot be built-in
    names); None means no value, as does a missing key.
    """
    custom = person.custom
    out: dict[str, Any] = dict(custom) if isinstance(custom, dict) else {}
    for name, column in _PAIRS:
        out[name] = getattr(person, column)
    return out


def database_dialect(using: Any = None) -> Dialect:
    """The dialect `pavior.core.matching` must follow for this database connection."""
    from django.db import connection

    vendor = (using or connection).vendor
    return "postgresql" if vendor == "postgresql" else "sqlite"
