"""How values look on the admin pages: dates in the workspace time zone, relative hints."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from pavior.core.attributes import AttributeDef, AttrType, render_name
from pavior.core.dates import from_epoch, to_local
from pavior.people.models import Person
from pavior.people.queries import BUILTIN_COLUMNS
from pavior.workspaces.models import Workspace


@dataclass
class Cell:
    """One value ready for a template: the text, and for dates an ISO stamp and a hint."""

    text: str
    iso: str = ""
    hint: str = ""
    empty: bool = False
    kind: str = "string"


def workspace_tz(workspace: Workspace) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(workspace.timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
)


def relative(when: datetime, now: datetime | None = None) -> str:
    """'3 days ago' / 'in 2 hours', keeping only the largest unit.

    Hand-rolled rather than Django's timesince: a list page formats hundreds
    of dates and timesince's calendar walk was a tenth of the render time.
    """
    now = now or timezone.now()
    try:
        delta = (now - when).total_seconds()
    except (OverflowError, TypeError):
        return ""
    seconds = abs(delta)
    if seconds < 60:
        return "just now"
    for unit, size in _UNITS:
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'' if n == 1 else 's'}"
            return f"{text} ago" if delta > 0 else f"in {text}"
    return "just now"


def row_html(pk: int, label: str, cells: list[Cell]) -> str:
    """One users-list row, escaped here rather than in a template loop.

    The list renders 50 rows x N columns; building them with escape() is
    several times faster than the template engine and just as safe: every
    piece of data goes through escape().
    """
    parts = ["<tr>"]
    for i, c in enumerate(cells):
        cls = ' class="num"' if c.kind == "number" else ""
        if i == 0:
            inner = f'<a href="/users/{int(pk)}/">{escape(label if c.empty else c.text)}</a>'
        elif c.empty:
            inner = '<span class="nil" aria-label="not set">—</span>'
        elif c.iso:
            inner = (
                f'<time datetime="{escape(c.iso)}" title="{escape(c.hint)}">{escape(c.text)}</time>'
            )
        else:
            inner = escape(c.text)
        parts.append(f"<td{cls}>{inner}</td>")
    if not cells:
        parts.append(f'<td><a href="/users/{int(pk)}/">{escape(label)}</a></td>')
    parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def raw_value(person: Person, attr: AttributeDef) -> Any:
    if attr.builtin:
        return getattr(person, BUILTIN_COLUMNS[attr.name])
    return (person.custom or {}).get(attr.name)


def as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return from_epoch(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4g}" if isinstance(value, float) else str(value)


# Built-in numbers counted in seconds, shown as durations ("2 min 5 s").
DURATIONS = frozenset({"total_time_spent", "time_on_current_page", "current_session_duration"})


def cell(value: Any, attr: AttributeDef, tz: zoneinfo.ZoneInfo) -> Cell:
    kind = attr.type.value
    if value is None or value == "":
        return Cell(text="", empty=True, kind=kind)
    if attr.type == AttrType.DATE:
        when = as_datetime(value)
        if when is None:
            return Cell(text=str(value), kind=kind)
        local = to_local(when, tz)
        # Formatted by hand: strftime drops the zero padding of years before
        # 1000 on some platforms, and to_local never raises (display is total).
        text = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
        if local.hour or local.minute:
            text += f" {local.hour:02d}:{local.minute:02d}"
        return Cell(text=text, iso=when.isoformat(), hint=relative(when), kind=kind)
    if attr.type == AttrType.BOOLEAN:
        return Cell(text="Yes" if value else "No", kind=kind)
    if attr.type == AttrType.NUMBER:
        if attr.name in DURATIONS:
            return Cell(text=duration(float(value)), kind=kind)
        return Cell(text=format_number(value), kind=kind)
    return Cell(text=str(value), kind=kind)


def duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def edit_text(value: Any, attr: AttributeDef, tz: zoneinfo.ZoneInfo) -> str:
    """A stored value as the text an edit field starts with (dates as local wall time)."""
    if value is None:
        return ""
    if attr.type == AttrType.DATE:
        when = as_datetime(value)
        if when is None:
            return ""
        # The value of a date/time field: wall time in the workspace's zone
        # (the edit view reads it back in that zone); to_local never overflows.
        return to_local(when, tz).strftime("%Y-%m-%dT%H:%M:%S")
    if attr.type == AttrType.BOOLEAN:
        return "true" if value else "false"
    if attr.type == AttrType.NUMBER and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def initials(person: Person) -> str:
    source = person.name or person.email or person.external_id or "?"
    words = [w for w in source.replace("@", " ").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def new_attribute_form(name: str, attr_type: str, error: Any) -> dict[str, Any]:
    """Template context of a refused "Add new attribute" form: values, preview, error.

    The users list's chooser and the attributes page show the same form.
    """
    return {
        "new_attr": {"name": name, "type": attr_type},
        "new_attr_preview": render_name(name) if name else "",
        "new_attr_error": {
            "field": error.field if error.field in ("name", "type") else "name",
            "message": error.message,
        },
    }


_URL_BREAKS = ("/", "?", "&", "#", "=")


def url_with_breaks(url: str) -> str:
    """A URL escaped for HTML, with a line-break opportunity (``<wbr>``) after each
    / ? & # =, so a long URL wraps between its parts rather than mid-word."""
    out: list[str] = []
    part = ""
    for ch in url:
        part += ch
        if ch in _URL_BREAKS:
            out.append(escape(part) + "<wbr>")
            part = ""
    out.append(escape(part))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above
