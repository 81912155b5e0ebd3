"""The message composer's form: its fields to the data `messaging.actions` takes, and back.

The audience is the users list's filter bar (`listing.filter_from_form`); the
rules builder works the same way over the four live attributes (`ra`/`ro`/`rv`
rows and `rjoin`), and its JSON is validated by `core.messages.parse_rules`
inside the action, so the page and the REST API refuse the same rules.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import QueryDict

from pavior.core.attributes import BUILTINS
from pavior.core.dates import from_local_input
from pavior.messaging.models import Message
from pavior.web import listing

# The rules builder's attributes and operators (SPEC §12, issue 11).
RULE_ATTRIBUTES = [
    BUILTINS[n]
    for n in (
        "current_page_url",
        "time_on_current_page",
        "current_session_duration",
        "interacted_in_current_session",
    )
]
RULE_OPERATORS: dict[str, list[tuple[str, str]]] = {
    "string": [
        ("eq", "is"),
        ("contains", "contains"),
        ("starts_with", "starts with"),
        ("ends_with", "ends with"),
        ("not_contains", "does not contain"),
    ],
    "number": [("gte", "≥ seconds"), ("lte", "≤ seconds")],
    "boolean": [("is_true", "yes"), ("is_false", "no")],
}
RULE_NO_VALUE_OPS = ["is_false", "is_true"]
_RULE_TYPES = {a.name: a.type.value for a in RULE_ATTRIBUTES}

# Fields of the form that an action's error may name; anything else about the
# audience filter is shown under the filter bar, anything about rules under the builder.
FORM_FIELDS = (
    "kind",
    "title",
    "subject",
    "body",
    "sender_name",
    "delivery",
    "starts_at",
    "ends_at",
    "status",
)


def rules_from_form(params: QueryDict) -> Any:
    """The rules builder's rows as the rules JSON (None when no row is filled in)."""
    names, ops, values = params.getlist("ra"), params.getlist("ro"), params.getlist("rv")
    remove = listing.form_int(params.get("remove_rule"))
    conditions: list[dict[str, Any]] = []
    for i, name in enumerate(names):
        if not name or remove == i:
            continue
        op = ops[i] if i < len(ops) else ""
        raw = values[i] if i < len(values) else ""
        value: Any = raw
        if op in ("is_true", "is_false"):
            op, value = "eq", op == "is_true"
        elif _RULE_TYPES.get(name) == "number":
            value = _seconds(raw)
        conditions.append({"attribute": name, "op": op, "value": value})
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return {"or" if params.get("rjoin") == "or" else "and": conditions}


def _seconds(raw: str) -> Any:
    """A number of seconds as JSON would carry it; other text goes on as text so
    parse_rules names the problem."""
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return raw


def rules_to_rows(rules: Any) -> tuple[list[listing.Row], str, bool]:
    """Stored rules as the builder's rows, the join, and whether groups were nested."""
    rows, join, nested = listing.filter_to_rows(rules or None)
    return rows, join, nested


def rule_bar(rows: list[listing.Row], join: str, *, add_row: bool = False) -> dict[str, Any]:
    rows = list(rows)
    if not rows or add_row:
        rows.append(listing.Row())
    return {
        "rule_rows": rows,
        "rule_join": join,
        "rule_attrs": RULE_ATTRIBUTES,
        "rule_operators": RULE_OPERATORS,
        "rule_no_value_ops": RULE_NO_VALUE_OPS,
    }


@dataclass
class Fields:
    """The composer's plain fields as the form shows them (text, as typed)."""

    channel: str
    kind: str = "announcement"
    title: str = ""
    subject: str = ""
    body: str = ""
    sender_name: str = ""
    delivery: str = "once"
    starts_at: str = ""
    ends_at: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def local_input(moment: datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    """A stored time as a datetime-local field's value in the workspace time zone."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if moment else ""


def fields_of(message: Message, tz: zoneinfo.ZoneInfo) -> Fields:
    return Fields(
        channel=message.channel,
        kind=message.kind or "announcement",
        title=message.title,
        subject=message.subject,
        body=message.body,
        sender_name=message.sender_name,
        delivery=message.delivery or "once",
        starts_at=local_input(message.starts_at, tz),
        ends_at=local_input(message.ends_at, tz),
    )


def fields_from_post(post: QueryDict, channel: str) -> Fields:
    return Fields(
        channel=channel,
        kind=post.get("kind", "announcement"),
        title=post.get("title", ""),
        subject=post.get("subject", ""),
        body=post.get("body", ""),
        sender_name=post.get("sender_name", ""),
        delivery=post.get("delivery", "once"),
        starts_at=post.get("starts_at", ""),
        ends_at=post.get("ends_at", ""),
    )


def _when(text: str, tz_name: str) -> Any:
    """A datetime-local value in the workspace zone; other text goes on for the
    action to name the problem."""
    if not text.strip():
        return None
    return from_local_input(text, tz_name) or text


def message_data(post: QueryDict, fields: Fields, tz_name: str, lookup: Any) -> dict[str, Any]:
    """The form as the `data` of create_message / update_message."""
    data: dict[str, Any] = {
        "body": fields.body,
        "audience": listing.filter_from_form(post, lookup),
        "starts_at": _when(fields.starts_at, tz_name),
        "ends_at": _when(fields.ends_at, tz_name),
    }
    if fields.channel == Message.Channel.EMAIL:
        data.update(subject=fields.subject, delivery=fields.delivery)
    else:
        data.update(
            kind=fields.kind,
            title=fields.title,
            sender_name=fields.sender_name,
            rules=rules_from_form(post),
        )
    return data


def error_slot(error_field: str | None) -> str:
    """Where on the form an action's error is shown: a field, "rules" or "audience";
    one that names no field ("status": above the form)."""
    if not error_field:
        return "status"
    name = (error_field or "").split(".", 1)[0].split("[", 1)[0]
    if name in FORM_FIELDS:
        return name
    if name == "rules":
        return "rules"
    return "audience"


_ROW_INDEX = re.compile(r"^rules\.(?:and|or)\[(\d+)\]")


def rule_error_row(error_field: str | None) -> int | None:
    """The builder row an error about rules names (rules.and[1].value -> 1)."""
    if error_field == "rules" or (error_field or "").startswith("rules."):
        m = _ROW_INDEX.match(error_field or "")
        return int(m.group(1)) if m else 0
    return None


def initials(name: str) -> str:
    """A chat sender's initials, as the bubble shows them ("Ada Lovelace" -> "AL")."""
    words = [w for w in re.split(r"[\s@._-]+", name.strip()) if w]
    return "".join(w[0] for w in words[:2]).upper() or "?"
