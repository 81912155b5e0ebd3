"""Turning incoming values into stored values, by attribute type.

Only lossless coercions are made (SPEC §4): a numeric string becomes a number,
an accepted date format a date, true/false/yes/no/1/0 a boolean. Anything
else is refused rather than guessed at. ``attributes.coerce_value`` wraps
this with the attribute's name for the error message.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from .dates import parse_date
from .inputs import text_problem

# ASCII digits only: Python's int()/float() would also take "1_000", "١٢"
# or "nan", none of which a person means as a number here.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
# Numbers are stored in JSON and read by JavaScript clients and SQL engines
# with 64-bit integers; larger ones would be silently mangled somewhere.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_MAX_NUMBER_TEXT = 400

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


class Refused(ValueError):
    """The value does not fit. ``detail`` says why, when there is more to say
    than "X is not a <type>"; ``fits_type`` means the value is of the right
    kind but still refused (e.g. a string that is too long)."""

    def __init__(self, detail: str = "", *, fits_type: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fits_type = fits_type


def coerce(
    type: str,
    value: object,
    *,
    day_first: bool | None = None,
    max_string_length: int = 1000,
) -> object | None:
    """``value`` as stored for an attribute of ``type``; None clears."""
    if value is None:
        return None
    if type == "string":
        return _string(value, max_string_length)
    # For typed values, whitespace around the text carries no meaning, and
    # a blank cell means "no value" just like an empty one.
    if isinstance(value, str) and not value.strip():
        return None
    if type == "number":
        return _number(value)
    if type == "date":
        return _date(value, day_first)
    if type == "boolean":
        return _boolean(value)
    raise Refused(f"unknown type {type!r}")


def _string(value: object, max_length: int) -> str | None:
    if isinstance(value, bool):
        # true/false in a text attribute most likely means the wrong field.
        raise Refused()
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise Refused("the number is out of range")
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Refused()
        return repr(value)  # the shortest text that reads back as this float
    if not isinstance(value, str):
        raise Refused()
    if value == "":
        return None
    if len(value) > max_length:
        raise Refused(
            f"it is longer than the {max_length:,}-character limit ({len(value):,} characters)",
            fits_type=True,
        )
    # Databases cannot store NUL in text columns, nor encode a lone surrogate.
    if problem := text_problem(value):
        raise Refused(problem, fits_type=True)
    return value


def _number(value: object) -> int | float:
    if isinstance(value, bool):
        raise Refused()
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_NUMBER_TEXT or not _NUMBER.fullmatch(text):
            raise Refused()
        value = int(text) if _INTEGER.fullmatch(text) else float(text)
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise Refused("it is out of the 64-bit integer range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Refused("it is not a finite number")
        return value
    raise Refused()


def _date(value: object, day_first: bool | None) -> datetime:
    try:
        return parse_date(value, day_first=day_first)
    except ValueError as exc:
        raise Refused(str(exc)) from None


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise Refused("use true/false, yes/no or 1/0")
    raise Refused()
