"""How values look on the admin pages: dates in the workspace time zone, relative hints."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from pavior.core.attributes import AttributeDef, AttrType
from pavior.core.dates import from_epoch
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


def relative(when: datetime, now: datetime | None = None) -> str:
    """'3 days ago' / 'in 2 hours', keeping only the largest unit."""
    now = now or timezone.now()
    if abs((now - when).total_seconds()) < 60:
        return "just now"
    if when <= now:
        return timesince(when, now, depth=1) + " ago"
    return "in " + timeuntil(when, now, depth=1)


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


def cell(value: Any, attr: AttributeDef, tz: zoneinfo.ZoneInfo) -> Cell:
    kind = attr.type.value
    if value is None or value == "":
        return Cell(text="", empty=True, kind=kind)
    if attr.type == AttrType.DATE:
        when = as_datetime(value)
        if when is None:
            return Cell(text=str(value), kind=kind)
        local = when.astimezone(tz)
        text = (
            local.strftime("%Y-%m-%d %H:%M")
            if (local.hour or local.minute)
            else (local.strftime("%Y-%m-%d"))
        )
        return Cell(text=text, iso=when.isoformat(), hint=relative(when), kind=kind)
    if attr.type == AttrType.BOOLEAN:
        return Cell(text="Yes" if value else "No", kind=kind)
    if attr.type == AttrType.NUMBER:
        if attr.name == "total_time_spent":
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
    """A stored value as the text an edit field starts with (dates in ISO, local zone)."""
    if value is None:
        return ""
    if attr.type == AttrType.DATE:
        when = as_datetime(value)
        if when is None:
            return ""
        local = when.astimezone(tz)
        # A plain day reads better than "T00:00:00+00:00" and parses back the same.
        if (local.hour, local.minute, local.second) == (0, 0, 0) and local.utcoffset() == 0:
            return local.date().isoformat()
        return local.isoformat()
    if attr.type == AttrType.BOOLEAN:
        return "true" if value else "false"
    if attr.type == AttrType.NUMBER and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def initials(person: Person) -> str:
    source = person.name or person.email or person.external_id or "?"
    words = [w for w in source.replace("@", " ").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"
