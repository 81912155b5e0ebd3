"""Reading people and attribute definitions: lookups and serialisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pavior.core.attributes import (
    BUILTINS,
    AttributeDef,
    AttrType,
    Trust,
    check_attribute_change,
    custom_attribute,
)
from pavior.core.dates import format_date, from_epoch
from pavior.core.errors import NotFound
from pavior.core.inputs import text_problem
from pavior.people.models import AttributeDefinition, Person
from pavior.workspaces.models import Workspace

# API name of a stored built-in -> Person field. `id` is `external_id` because
# the row's own primary key is internal.
BUILTIN_COLUMNS: dict[str, str] = {
    name: ("external_id" if name == "id" else name)
    for name, attr in BUILTINS.items()
    if not attr.live
}


def builtin_for_workspace(workspace: Workspace, attr: AttributeDef) -> AttributeDef:
    """A built-in as this workspace sees it: locked ones lose browser trust."""
    if attr.name in (workspace.locked_builtins or []) and Trust.BROWSER in attr.writable_by:
        return AttributeDef(
            name=attr.name,
            rendered_name=attr.rendered_name,
            type=attr.type,
            builtin=True,
            live=attr.live,
            writable_by=attr.writable_by - {Trust.BROWSER},
        )
    return attr


def definition_to_attr(d: AttributeDefinition) -> AttributeDef:
    return custom_attribute(
        d.name, d.type, archived=d.archived, browser_writable=d.browser_writable
    )


def custom_definitions(workspace: Workspace) -> list[AttributeDefinition]:
    return list(
        AttributeDefinition.objects.filter(workspace=workspace).order_by("created_at", "id")
    )


def all_attributes(workspace: Workspace, *, include_archived: bool = True) -> list[AttributeDef]:
    attrs = [builtin_for_workspace(workspace, a) for a in BUILTINS.values()]
    for d in custom_definitions(workspace):
        if include_archived or not d.archived:
            attrs.append(definition_to_attr(d))
    return attrs


def attribute_lookup(workspace: Workspace) -> Callable[[str], AttributeDef | None]:
    """A name -> AttributeDef function over this workspace's definitions.

    Loads the definitions once, so a request validating many names costs one
    query.
    """
    by_name = {a.name: a for a in all_attributes(workspace)}
    return by_name.get


def builtin_lookup(workspace: Workspace) -> Callable[[str], AttributeDef | None]:
    """attribute_lookup over the built-ins alone: no query, for a write that
    names only built-ins (a new visitor's id)."""
    return {a.name: builtin_for_workspace(workspace, a) for a in BUILTINS.values()}.get


def custom_definition(workspace: Workspace, name: str) -> AttributeDefinition:
    d = None
    if not text_problem(name):  # NUL (PostgreSQL refuses it) or a lone surrogate: no attribute
        d = AttributeDefinition.objects.filter(workspace=workspace, name=name).first()
    if d is None:
        raise NotFound(f'No custom attribute named "{name}"', field="name")
    return d


def deletable_definition(workspace: Workspace, name: str) -> AttributeDefinition:
    """The custom attribute a delete would remove, or the error that delete gives
    (the confirmation page asks for it before delete_attribute runs)."""
    check_attribute_change(name, "delete")
    return custom_definition(workspace, name)


def get_attribute(workspace: Workspace, name: str) -> AttributeDef | None:
    return attribute_lookup(workspace)(name)


def json_value(attr_type: AttrType | str, value: Any) -> Any:
    """A stored value as the API shows it (dates as RFC 3339 UTC)."""
    if value is None:
        return None
    if attr_type == AttrType.DATE:
        if isinstance(value, datetime):
            return format_date(value)
        return format_date(from_epoch(value))
    # 3.0 reads as 3; but not past 2**53, where the float is no exact integer and
    # an int would leave the 64-bit range numbers are kept in (and not read back).
    if (
        attr_type == AttrType.NUMBER
        and isinstance(value, float)
        and value.is_integer()
        and abs(value) <= 2**53
    ):
        return int(value)
    if attr_type == AttrType.NUMBER and isinstance(value, int) and not -(2**63) <= value < 2**63:
        # PostgreSQL's jsonb writes 1.2e19 as 12000000000000000000, which reads
        # back as an int no 64-bit reader (nor our own import) accepts.
        return float(value)
    return value


def serialize_person(person: Person, attrs: list[AttributeDef]) -> dict[str, Any]:
    """The user as one flat object of API name -> value (active attributes only)."""
    out: dict[str, Any] = {}
    custom = person.custom or {}
    for attr in attrs:
        if attr.live or attr.archived:
            continue
        if attr.builtin:
            value = getattr(person, BUILTIN_COLUMNS[attr.name])
        else:
            value = custom.get(attr.name)
        out[attr.name] = json_value(attr.type, value)
    return out


def find_person(workspace: Workspace, user_id: str) -> Person | None:
    return Person.objects.filter(workspace=workspace, external_id=user_id).first()
