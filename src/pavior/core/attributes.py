"""Attribute definitions: built-ins, custom names and types, value coercion."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .coercion import Refused, coerce
from .errors import InvalidName, InvalidType, InvalidValue, show_value
from .names import date_suffix, render_name, requires_date

__all__ = [
    "BUILTINS",
    "LIVE_NAMES",
    "MAX_NAME_LENGTH",
    "AttrType",
    "AttributeDef",
    "Trust",
    "builtin",
    "coerce_value",
    "custom_attribute",
    "infer_type",
    "render_name",
    "requires_date",
    "validate_custom_name",
    "validate_custom_type",
]


class AttrType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"


class Trust(enum.StrEnum):
    """Who is writing: the website snippet, the secret API, or a CSV import."""

    BROWSER = "browser"
    SECRET = "secret"  # noqa: S105 - a trust level, not a password
    IMPORT = "import"


_ALL = frozenset(Trust)
_SERVER = frozenset({Trust.SECRET, Trust.IMPORT})
_NOBODY: frozenset[Trust] = frozenset()


@dataclass(frozen=True)
class AttributeDef:
    name: str
    rendered_name: str
    type: AttrType
    builtin: bool = False
    live: bool = False
    writable_by: frozenset[Trust] = _ALL
    archived: bool = False

    @property
    def browser_writable(self) -> bool:
        return Trust.BROWSER in self.writable_by

    @property
    def read_only(self) -> bool:
        return not self.writable_by


def _b(
    name: str,
    rendered: str,
    type: AttrType,
    writable_by: frozenset[Trust] = _ALL,
    *,
    live: bool = False,
) -> AttributeDef:
    return AttributeDef(name, rendered, type, True, live, writable_by)


_S, _N, _D, _B = AttrType.STRING, AttrType.NUMBER, AttrType.DATE, AttrType.BOOLEAN

# SPEC §2, in table order; the rendered names are the table's, not
# render_name's ("Last seen", not "Last Seen At").
BUILTINS: dict[str, AttributeDef] = {
    a.name: a
    for a in (
        _b("id", "Id", _S),
        _b("email", "Email", _S),
        _b("name", "Name", _S),
        _b("first_name", "First name", _S),
        _b("last_name", "Last name", _S),
        _b("phone", "Phone", _S),
        # Tracking sets these from GeoIP; only server trust (the secret API,
        # an import) may seed them, never the browser (SPEC §2, §6).
        _b("city", "City", _S, _SERVER),
        _b("country", "Country", _S, _SERVER),
        _b("total_visits", "Total visits", _N, _NOBODY),
        _b("last_seen_at", "Last seen", _D, _NOBODY),
        _b("last_activity_at", "Last activity", _D, _NOBODY),
        _b("first_known_at", "First known of", _D, _SERVER),
        # The browser may only set it through a verified identification,
        # which the tracking path does itself, never as a plain write.
        _b("signed_up_at", "Signed up on", _D, _SERVER),
        _b("email_subscription", "Email subscription", _B, _SERVER),
        _b("total_time_spent", "Total time spent", _N, _NOBODY),
        _b("time_on_current_page", "Time on current page", _N, _NOBODY, live=True),
        _b("current_page_url", "Current page URL", _S, _NOBODY, live=True),
        _b(
            "current_session_duration",
            "Current session duration",
            _N,
            _NOBODY,
            live=True,
        ),
        _b(
            "interacted_in_current_session",
            "Interacted in current session",
            _B,
            _NOBODY,
            live=True,
        ),
    )
}

LIVE_NAMES: frozenset[str] = frozenset(n for n, a in BUILTINS.items() if a.live)

MAX_NAME_LENGTH = 64
_NAME_CHARS = re.compile(r"[A-Za-z0-9_]")


def builtin(name: str) -> AttributeDef | None:
    return BUILTINS.get(name)


def _to_type(type: object) -> AttrType:
    if isinstance(type, str):
        try:
            # Case is forgiven: "Date" in a CSV mapping means nothing else.
            return AttrType(type.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(t.value for t in AttrType)
    raise InvalidType(
        f"Unknown attribute type {show_value(type)}; choose one of: {choices}",
        field="type",
    )


def custom_attribute(
    name: str,
    type: AttrType | str,
    *,
    archived: bool = False,
    browser_writable: bool = True,
) -> AttributeDef:
    """The definition of a stored custom attribute (name already validated)."""
    return AttributeDef(
        name=name,
        rendered_name=render_name(name),
        type=_to_type(type),
        archived=archived,
        writable_by=_ALL if browser_writable else _SERVER,
    )


def validate_custom_name(name: object, existing_names: Iterable[str] = ()) -> str:
    """Return ``name`` if a new custom attribute may have it, else InvalidName.

    ``existing_names`` are the workspace's other custom attributes (archived
    ones included: they still own their name and slot on restore).
    """

    def refuse(message: str) -> InvalidName:
        return InvalidName(message, field="name")

    if not isinstance(name, str):
        raise refuse("The attribute name must be a string")
    if not name:
        raise refuse("The attribute name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise refuse(
            f"Attribute names may be at most {MAX_NAME_LENGTH} characters; "
            f"{show_value(name)} has {len(name)}"
        )
    bad = next((c for c in name if not _NAME_CHARS.fullmatch(c)), None)
    if bad is not None:
        raise refuse(
            "Attribute names may only contain letters, digits and underscores; "
            f"{show_value(name)} contains {bad!r}"
        )
    if name[0].isdigit():
        raise refuse(f"Attribute names may not start with a digit; {show_value(name)} does")
    rendered = render_name(name)
    if not rendered:
        # "_" or "___" would be shown as an empty name on every page.
        raise refuse(f"Attribute names must contain a letter or digit; {show_value(name)} has none")
    if name in BUILTINS:
        raise refuse(f"{show_value(name)} is a built-in attribute")
    existing = list(existing_names)
    if name in existing:
        raise refuse(f"An attribute named {show_value(name)} already exists")
    key = rendered.casefold()
    for b in BUILTINS.values():
        if key in (b.rendered_name.casefold(), render_name(b.name).casefold()):
            raise refuse(
                f"{show_value(name)} would be shown as {rendered!r}, the same as the "
                f"built-in attribute {b.name!r} ({b.rendered_name})"
            )
    for other in existing:
        if render_name(other).casefold() == key:
            raise refuse(
                f"{show_value(name)} would be shown as {rendered!r}, the same as the "
                f"existing attribute {other!r}"
            )
    return name


def validate_custom_type(name: str, type: object) -> AttrType:
    """The type a new custom attribute called ``name`` may be created with."""
    t = _to_type(type)
    suffix = date_suffix(name)
    if suffix is not None and t is not AttrType.DATE:
        raise InvalidType(
            f"{name!r} ends with {suffix!r}, so it must be a date (not {t.value})",
            field="type",
        )
    return t


def infer_type(name: str, value: object) -> AttrType:
    """The type the snippet gives an attribute it creates on first write."""
    if requires_date(name):
        return AttrType.DATE
    if isinstance(value, bool):  # before int: bool is an int subclass
        return AttrType.BOOLEAN
    if isinstance(value, int | float):
        return AttrType.NUMBER
    if isinstance(value, str):
        return AttrType.STRING
    raise InvalidValue(
        f"Cannot create attribute {name!r} from {show_value(value)}: "
        "use a string, number, boolean or date",
        field=name,
    )


def coerce_value(
    attr: AttributeDef,
    value: object,
    *,
    day_first: bool | None = None,
    max_string_length: int = 1000,
) -> object | None:
    """``value`` as stored for ``attr``: str, int|float, UTC datetime, bool.

    None means "clear the value". Refused values raise InvalidValue naming
    the attribute, its type and the value.
    """
    try:
        return coerce(
            attr.type.value,
            value,
            day_first=day_first,
            max_string_length=max_string_length,
        )
    except Refused as exc:
        kind = attr.type.value
        if exc.fits_type:
            message = f"{show_value(value)} is refused: {exc.detail}"
        else:
            message = f"{show_value(value)} is not a {kind}"
            if exc.detail:
                message += f": {exc.detail}"
        raise InvalidValue(
            f"Attribute {_quote(attr.name)} is a {kind}; {message}", field=attr.name
        ) from None


def _quote(text: str) -> str:
    return '"' + text + '"'


def lockable(name: str) -> bool:
    """Whether a team may lock this attribute against browser writes (or unlock it):
    any custom attribute; a built-in only if the browser could write it at all."""
    attr = BUILTINS.get(name)
    return attr is None or (not attr.live and Trust.BROWSER in attr.writable_by)


def check_attribute_change(name: str, change: str) -> None:
    """Refuse what an attribute's kind never allows, the same from every door.

    `change` is archive, restore, lock, unlock or delete. A built-in is part of
    the product (SPEC §2): it is never archived or deleted, and one the browser
    never writes has nothing to lock.
    """
    attr = BUILTINS.get(name)
    if attr is None:
        return
    if change in ("archive", "restore"):
        raise InvalidValue(
            f"{attr.rendered_name} is a built-in attribute; it cannot be archived",
            field="archived",
        )
    if change == "delete":
        raise InvalidValue(
            f"{attr.rendered_name} is a built-in attribute; it cannot be deleted", field="name"
        )
    if change in ("lock", "unlock") and not lockable(name):
        raise InvalidValue(
            f"{attr.rendered_name} is never written by the browser", field="browser_writable"
        )
