"""Rules of messages (SPEC §12, §13): what a message may hold and how its status moves.

Live-attribute rules of in-site messages are parsed here too: they are a
filter over the four live attributes only (a stored attribute there is a
422, as a live attribute in an audience is). The parsed rules go to the
browser as they are, so their shape is kept small and fixed:
``{"attribute", "op", "value"}`` conditions inside ``{"and"|"or": [...]}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .attributes import BUILTINS, LIVE_NAMES, AttrType
from .errors import InvalidFilter, InvalidValue, PaviorError, UnknownAttribute, show_value

CHANNELS = ("in_app", "email")
KINDS = ("chat", "announcement")
DELIVERIES = ("once", "ongoing")
STATUSES = ("draft", "live", "paused", "archived")

MAX_TITLE_LENGTH = 200
MAX_SUBJECT_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_RULE_CONDITIONS = 20
MAX_RULE_DEPTH = 3
MAX_RULE_SECONDS = 7 * 24 * 3600
MAX_RULE_TEXT = 2_000

# status -> the statuses it may move to (draft -> live <-> paused -> archived).
_MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"live", "archived"}),
    "live": frozenset({"paused", "archived"}),
    "paused": frozenset({"live", "archived"}),
    "archived": frozenset(),
}

# The operators a rule may use per live attribute's type (the rules builder's).
RULE_OPS: dict[AttrType, frozenset[str]] = {
    AttrType.STRING: frozenset({"eq", "contains", "not_contains", "starts_with", "ends_with"}),
    AttrType.NUMBER: frozenset({"gte", "lte"}),
    AttrType.BOOLEAN: frozenset({"eq"}),
}


class InvalidStatusChange(PaviorError):
    code = "invalid_status_change"
    status = 409


class StoredAttributeInRules(PaviorError):
    code = "stored_attribute"


def check_status_move(current: str, new: object) -> str:
    """The new status, if a message in ``current`` may move there."""
    if new not in STATUSES:
        raise InvalidValue(
            f"status must be one of {', '.join(STATUSES)}, not {show_value(new)}", field="status"
        )
    assert isinstance(new, str)
    if new == current:
        return new
    if new not in _MOVES[current]:
        raise InvalidStatusChange(
            f"A {current} message cannot become {new}"
            + (" (archived messages are final)" if current == "archived" else ""),
            field="status",
        )
    return new


def check_choice(value: object, choices: tuple[str, ...], field: str) -> str:
    if value not in choices:
        raise InvalidValue(
            f"{field} must be one of {', '.join(choices)}, not {show_value(value)}", field=field
        )
    assert isinstance(value, str)
    return value


def check_text(value: object, field: str, max_length: int, *, required: bool = False) -> str:
    """A title, subject or body: a string within its length, without NUL."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidValue(f"{field} must be a string", field=field)
    if "\x00" in value:
        raise InvalidValue(f"{field} contains a NUL character", field=field)
    if len(value) > max_length:
        raise InvalidValue(f"{field} is longer than {max_length:,} characters", field=field)
    if required and not value.strip():
        raise InvalidValue(f"{field} is required", field=field)
    return value


def check_schedule(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidValue("ends_at must be after starts_at", field="ends_at")


def parse_rules(data: object) -> dict[str, Any] | None:
    """Validate live-attribute rules; the normalised JSON the browser evaluates.

    None or {} means no rules (shown as soon as the audience matches).
    """
    if data is None or data == {}:
        return None
    counter = [0]
    return _rule_node(data, "rules", 1, counter)


def _rule_node(data: object, field: str, depth: int, counter: list[int]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidFilter("A rule must be an object", field=field)
    if depth > MAX_RULE_DEPTH:
        raise InvalidFilter(f"Rules may nest at most {MAX_RULE_DEPTH} deep", field=field)
    group = [k for k in ("and", "or") if k in data]
    if group:
        kind = group[0]
        children = data[kind]
        if len(data) != 1 or not isinstance(children, list) or not children:
            raise InvalidFilter(
                f'A group is {{"{kind}": [rule, ...]}} with at least one rule', field=field
            )
        return {
            kind: [
                _rule_node(c, f"{field}.{kind}[{i}]", depth + 1, counter)
                for i, c in enumerate(children)
            ]
        }
    counter[0] += 1
    if counter[0] > MAX_RULE_CONDITIONS:
        raise InvalidFilter(f"Rules may have at most {MAX_RULE_CONDITIONS} conditions", field=field)
    extra = set(data) - {"attribute", "op", "value"}
    if extra:
        raise InvalidFilter(f"Unknown key {show_value(sorted(extra)[0])} in a rule", field=field)
    name = data.get("attribute")
    if not isinstance(name, str):
        raise InvalidFilter("A rule names its attribute as a string", field=f"{field}.attribute")
    if name not in LIVE_NAMES:
        if name in BUILTINS or (len(name) <= 64 and name.replace("_", "").isalnum()):
            raise StoredAttributeInRules(
                f"{show_value(name)} is not a live attribute; rules use only "
                f"{', '.join(sorted(LIVE_NAMES))} (put stored attributes in the audience)",
                field=f"{field}.attribute",
            )
        raise UnknownAttribute(f"Unknown attribute {show_value(name)}", field=f"{field}.attribute")
    attr_type = BUILTINS[name].type
    op = data.get("op")
    if op not in RULE_OPS[attr_type]:
        raise InvalidFilter(
            f"{name} takes the operators {', '.join(sorted(RULE_OPS[attr_type]))}, "
            f"not {show_value(op)}",
            field=f"{field}.op",
        )
    value = data.get("value")
    vfield = f"{field}.value"
    if attr_type is AttrType.STRING:
        if not isinstance(value, str) or not value or len(value) > MAX_RULE_TEXT:
            raise InvalidFilter(
                f"{name} {op} takes a non-empty text of at most {MAX_RULE_TEXT} characters",
                field=vfield,
            )
    elif attr_type is AttrType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidFilter(f"{name} {op} takes a number of seconds", field=vfield)
        if not 0 <= value <= MAX_RULE_SECONDS:
            raise InvalidFilter(
                f"{name} {op} takes 0 to {MAX_RULE_SECONDS:,} seconds", field=vfield
            )
    elif not isinstance(value, bool):
        raise InvalidFilter(f"{name} {op} takes true or false", field=vfield)
    return {"attribute": name, "op": op, "value": value}
