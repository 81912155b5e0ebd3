"""Reading a JSON request body: the one parser every door uses.

Whatever arrives as JSON (REST bodies, tracking batches, Segment calls) is
read here, so each limit holds on every path before anything deeper sees the
data:

- nesting deeper than MAX_DEPTH is refused (a body of 3,000 `[` must not
  reach a recursive function: the parser, a serialiser or a type check);
- lone UTF-16 surrogates (`"\\ud83d"`) are refused: Python would read them
  into a str that can be neither encoded nor stored;
- the NUL character (`\\u0000`), in a value or a key, is refused: PostgreSQL
  cannot store it in text or jsonb, and a body that one database takes and
  the other refuses would behave differently on each;
- NaN and Infinity (not JSON) and numbers too large for a double are refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pavior.core.errors import PaviorError

# Deep enough for any real payload (a Segment call with its context is about
# five levels), shallow enough that no recursive walk of it can overflow.
MAX_DEPTH = 32


class InvalidJson(PaviorError):
    code = "invalid_json"
    status = 400


def parse_json(raw: bytes | str) -> Any:
    """The parsed document, or InvalidJson naming what is wrong with it."""
    try:
        data = raw.encode() if isinstance(raw, str) else raw
    except UnicodeEncodeError as e:  # a str holding a lone surrogate
        raise _surrogate() from e
    try:
        # Decoded here, strictly: json.loads would decode bytes with
        # "surrogatepass" and let a surrogate written as raw UTF-8 through.
        text = data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as e:
        if _ENCODED_SURROGATE.search(data):
            raise _surrogate() from e
        raise InvalidJson(f"The body is not valid UTF-8: {e}") from e
    try:
        value = _DECODER.decode(text)
    except RecursionError as e:
        raise _too_deep() from e
    except ValueError as e:  # JSONDecodeError is a ValueError
        raise InvalidJson(f"The body is not valid JSON: {e}") from e
    # Fewer brackets in the whole body than the limit cannot nest past it:
    # real payloads skip the walk (two C-speed counts).
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth_over(value, MAX_DEPTH):
        raise _too_deep()
    if "\\u0000" in text and _has_nul(value):
        raise InvalidJson("The body contains a NUL character (\\u0000), which cannot be stored")
    if "\\ud" in text.lower():
        # JSON may escape half of a UTF-16 pair (\ud83d alone): Python reads it
        # into a str that can be neither stored nor encoded.
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError as e:
            raise _surrogate() from e
    return value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:20]} is too large")
    return number


# One decoder for every call (json.loads with hooks builds a new one each time).
_DECODER = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)
# A UTF-16 surrogate written as UTF-8 bytes (ED A0..BF xx): not UTF-8 at all.
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


def _surrogate() -> InvalidJson:
    return InvalidJson("The body contains an unpaired surrogate character")


def _too_deep() -> InvalidJson:
    return InvalidJson(f"The body is nested more than {MAX_DEPTH} levels deep")


def _depth_over(value: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` deep (iterative: no
    recursion), a level at a time: a parsed document holds only dict and list
    containers, so `type(...) in` is exact and cheaper than isinstance."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below += [child for child in children if type(child) in _CONTAINERS]
        level = below
    return False


_CONTAINERS = (dict, list)


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
