"""Rules for writing a user's attributes, shared by the API, snippet and import."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .attributes import AttributeDef, Trust, coerce_value
from .errors import ReadOnlyAttribute, UnknownAttribute


def prepare_write(
    values: Mapping[str, object],
    lookup: Callable[[str], AttributeDef | None],
    *,
    trust: Trust,
    day_first: bool | None = None,
    max_string_length: int = 1000,
) -> dict[str, object]:
    """Check and coerce a write of ``values`` by a caller of ``trust``.

    Returns API name -> stored value (None clears). The first problem, in
    key order, is raised, so the same request always gets the same error.
    """
    out: dict[str, object] = {}
    for name, value in values.items():
        attr = lookup(name)
        if attr is None:
            raise UnknownAttribute(f'Unknown attribute "{name}"; create it first', field=name)
        if attr.live:
            raise ReadOnlyAttribute(
                f"{name} is a live attribute; it is set by tracking and cannot be written",
                field=name,
            )
        if attr.read_only:
            raise ReadOnlyAttribute(f"{name} is read-only", field=name)
        if trust not in attr.writable_by:
            who = "from the browser" if trust is Trust.BROWSER else "by this caller"
            raise ReadOnlyAttribute(f"{name} cannot be written {who}", field=name)
        if attr.archived:
            raise UnknownAttribute(
                f"{name} is archived; restore it before writing to it",
                field=name,
            )
        out[name] = coerce_value(
            attr, value, day_first=day_first, max_string_length=max_string_length
        )
    return out


def derive_names(values: dict[str, object]) -> dict[str, object]:
    """A copy of ``values`` with name / first_name / last_name filled in.

    A key the caller gave is never overwritten, even with None: None there
    means "clear it", which is a choice too.
    """
    out = dict(values)
    if "name" not in out:
        parts = [
            p.strip()
            for p in (out.get("first_name"), out.get("last_name"))
            if isinstance(p, str) and p.strip()
        ]
        if parts:
            out["name"] = " ".join(parts)
    else:
        name = out["name"]
        if isinstance(name, str) and name.strip():
            words = name.split(None, 1)
            out.setdefault("first_name", words[0])
            out.setdefault("last_name", words[1].strip() if len(words) > 1 else None)
    return out


def merge_subscription(current: bool, new: bool | None, *, by_user: bool = False) -> bool:
    """email_subscription after a write of ``new`` (SPEC §7).

    Anyone may unsubscribe a user; only the user's own action re-subscribes
    them, so an import or admin edit cannot undo an unsubscribe. When a
    change is not allowed the current value is kept.
    """
    if new is None:
        return current
    if new:
        return True if current or by_user else current
    return False
