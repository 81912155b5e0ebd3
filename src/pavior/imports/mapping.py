"""Which column goes to which attribute: parsing, auto-mapping and checking a mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pavior.core.attributes import (
    AttributeDef,
    AttrType,
    Trust,
    custom_attribute,
    validate_custom_name,
    validate_custom_type,
)
from pavior.core.errors import InvalidValue, PaviorError, UnknownAttribute
from pavior.core.peer_columns import match_column
from pavior.core.profile import prepare_write

IDENTITY = ("id", "email")


@dataclass(frozen=True)
class Column:
    """One mapped column: its position in each row and the attribute it fills."""

    index: int
    header: str
    attr: AttributeDef
    new: bool = False  # created when the import runs
    invert: bool = False  # a boolean that says the opposite ("Unsubscribed")
    reason: str = ""  # why it is mapped so, shown to the person importing

    def as_json(self) -> dict[str, Any]:
        out = {"attribute": self.attr.name, "type": self.attr.type.value, "new": self.new}
        if self.invert:
            out["invert"] = True
        if self.reason:
            out["reason"] = self.reason
        return out


Spec = tuple[str, str | None, bool]  # attribute, type to create it with, inverted


def parse_spec(value: Any, column: str) -> Spec | None:
    """A mapping entry: "attr", "attr:type", "!attr" (a boolean read inverted),
    {"attribute", "type", "invert"}, or ""/None (skip)."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        head, _, tail = value.partition(":")
        head = head.strip()
        invert = head.startswith("!")
        return head.lstrip("!").strip(), (tail.strip() or None), invert
    if isinstance(value, Mapping):
        name = value.get("attribute")
        type_ = value.get("type")
        invert = value.get("invert", False)
        if name in (None, ""):
            return None
        if not isinstance(name, str) or not (type_ is None or isinstance(type_, str)):
            raise InvalidValue(
                f'Column "{column}": attribute and type must be strings', field="mapping"
            )
        if not isinstance(invert, bool):
            raise InvalidValue(f'Column "{column}": invert is true or false', field="mapping")
        return name.strip(), type_, invert
    raise InvalidValue(
        f'Column "{column}": map it to an attribute name or {{"attribute": ..., "type": ...}}',
        field="mapping",
    )


def resolve(
    header: list[str],
    specs: Mapping[str, Any],
    attributes: list[AttributeDef],
    *,
    auto: bool = True,
) -> list[Column]:
    """The checked column mapping for a file with ``header``.

    ``specs`` maps a column (its header text, or its 1-based position as
    "#3") to an attribute. Columns not named are mapped to the attribute
    their header names when ``auto``; otherwise skipped.
    """
    by_name = {a.name: a for a in attributes}
    positions: dict[int, Spec | None] = {}
    for key, value in specs.items():
        idx = _column_index(header, key)
        positions[idx] = parse_spec(value, key)
    existing_custom = [a.name for a in attributes if not a.builtin]
    columns: list[Column] = []
    used: dict[str, str] = {}
    new_names: list[str] = []
    for idx, head in enumerate(header):
        if idx in positions:
            spec = positions[idx]
            if spec is None:
                continue
            name, type_, invert = spec
            reason = "mapped by you"
        elif auto:
            found = match_column(head, attributes)
            if found is None or found.attribute in used:
                continue
            if found.new and found.type is None:
                continue  # a proposal for the wizard; the CLI and API map it by hand
            if not found.new and not _importable(by_name[found.attribute], by_name):
                continue
            name, invert = found.attribute, found.invert
            type_ = found.type.value if found.new and found.type else None
            reason = f"mapped automatically because {found.reason}"
        else:
            continue
        label = head or f"#{idx + 1}"
        attr = by_name.get(name)
        new = False
        if attr is None:
            if type_ is None:
                raise UnknownAttribute(
                    f'Column "{label}": there is no attribute "{name}"; give a type to '
                    f"create it ({label}={name}:string|number|date|boolean)",
                    field="mapping",
                )
            valid = _new_name(name, existing_custom + new_names, label)
            attr = custom_attribute(
                valid, validate_custom_type(valid, type_), browser_writable=True
            )
            new_names.append(valid)
            new = True
        else:
            if type_ is not None and type_.strip().lower() != attr.type.value:
                raise InvalidValue(
                    f'Column "{label}": attribute "{name}" already exists as a '
                    f"{attr.type.value}, not a {type_}",
                    field="mapping",
                )
            _check_writable(attr, by_name, label)
        if attr.name in used:
            raise InvalidValue(
                f'Columns "{used[attr.name]}" and "{label}" are both mapped to "{attr.name}"',
                field="mapping",
            )
        if invert and attr.type is not AttrType.BOOLEAN:
            raise InvalidValue(
                f'Column "{label}": only a boolean can be read inverted, and "{attr.name}" '
                f"is a {attr.type.value}",
                field="mapping",
            )
        used[attr.name] = label
        columns.append(Column(idx, head, attr, new, invert, reason))
    if not any(c.attr.name in IDENTITY for c in columns):
        raise InvalidValue(
            "Map a column to id or email: rows are matched to users by id, else by email",
            field="mapping",
        )
    return columns


def _column_index(header: list[str], key: str) -> int:
    if key.startswith("#") and key[1:].isdigit() and 1 <= int(key[1:]) <= len(header):
        return int(key[1:]) - 1
    matches = [i for i, h in enumerate(header) if h == key]
    if not matches:
        matches = [i for i, h in enumerate(header) if h.casefold() == key.strip().casefold()]
    if not matches:
        raise InvalidValue(
            f'The mapping names a column "{key}" that the file does not have '
            f"(columns: {', '.join(header)})",
            field="mapping",
        )
    return matches[0]


def _new_name(name: str, existing: list[str], label: str) -> str:
    try:
        return validate_custom_name(name, existing)
    except PaviorError as e:
        raise InvalidValue(f'Column "{label}": {e.message}', field="mapping") from e


def _importable(attr: AttributeDef, by_name: dict[str, AttributeDef]) -> bool:
    try:
        prepare_write({attr.name: None}, by_name.get, trust=Trust.IMPORT)
        return True
    except PaviorError:
        return False


def _check_writable(attr: AttributeDef, by_name: dict[str, AttributeDef], label: str) -> None:
    # The same rule as every other write: prepare_write says who may write what.
    try:
        prepare_write({attr.name: None}, by_name.get, trust=Trust.IMPORT)
    except PaviorError as e:
        raise type(e)(f'Column "{label}": {e.message}', field="mapping") from e


def to_json(columns: list[Column]) -> dict[str, dict[str, Any]]:
    return {str(c.index): c.as_json() for c in columns}


def from_json(
    header: list[str], data: Mapping[str, Any], attributes: list[AttributeDef]
) -> list[Column]:
    """Columns saved by to_json, checked again (definitions may have changed)."""
    specs = {f"#{int(k) + 1}": v for k, v in data.items()}
    columns = resolve(header, specs, attributes, auto=False)
    reasons = {int(k): v.get("reason", "") for k, v in data.items() if isinstance(v, Mapping)}
    return [replace(c, reason=reasons.get(c.index) or c.reason) for c in columns]
