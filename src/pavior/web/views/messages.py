"""Messages in the admin (SPEC §12, §13): the list, the composers, status, stats.

Every change goes through `messaging.actions` (create_message, update_message),
so the page refuses what the REST API refuses, with the same messages; an
error is shown next to the field it names. The preview and the audience count
are small htmx requests (POST, the form's fields) answered with HTML fragments.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pavior.core import messages as message_rules
from pavior.core.errors import PaviorError
from pavior.messaging import actions, insights, sending
from pavior.messaging.models import Message
from pavior.messaging.queries import get_message, list_messages, message_stats
from pavior.messaging.rendering import render_html
from pavior.segments.saved import list_segments
from pavior.web import display, listing
from pavior.web import message_form as mf
from pavior.web.charts import grouped_bar_chart
from pavior.web.context import current_workspace
from pavior.workspaces.models import Workspace

log = logging.getLogger(__name__)

CHANNEL_SLUGS = {"in-app": Message.Channel.IN_APP, "email": Message.Channel.EMAIL}
STAT_COLUMNS = {
    "in_app": [("shown", "Shown"), ("dismissed", "Dismissed"), ("clicked", "Clicked")],
    "email": [("sent", "Sent"), ("failed", "Failed"), ("skipped", "Skipped")],
}
# The status buttons of each status: (value, label, css).
STATUS_BUTTONS = {
    "new": [("live", "Go live", "btn-primary")],
    "draft": [("live", "Go live", "btn-primary"), ("archived", "Archive", "btn-danger")],
    "live": [("paused", "Pause", ""), ("archived", "Archive", "btn-danger")],
    "paused": [("live", "Go live", "btn-primary"), ("archived", "Archive", "btn-danger")],
    "archived": [],
}
STATUS_DONE = {
    "live": "is live",
    "paused": "is paused",
    "archived": "is archived",
}


def _message_or_404(ws: Workspace, pk: int) -> Message:
    try:
        return get_message(ws, pk)
    except PaviorError as e:  # another workspace's message is not found either
        raise Http404(e.message) from e


def _audience_text(ws: Workspace, audience: Any) -> tuple[int | None, str]:
    try:
        return insights.audience_size(ws, audience), ""
    except PaviorError as e:  # e.g. an attribute it names was deleted since
        return None, e.message


# --- the list ---------------------------------------------------------------------------


@login_required
@require_GET
def messages_page(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    rows = []
    for message in list_messages(ws):
        # Audience sizes are counted by a request per row after the page is shown
        # (`audience_size`): one audience over a custom attribute of a million
        # users can take a second, and the list must not wait for all of them.
        stats = message_stats(message)
        rows.append(
            {
                "message": message,
                "stats": [(label, stats[key]) for key, label in STAT_COLUMNS[message.channel]],
            }
        )
    return render(request, "web/messages.html", {"nav": "messages", "rows": rows})


@login_required
@require_GET
def audience_size(request: HttpRequest, pk: int) -> HttpResponse:
    """One list row's audience size now (an htmx fragment; the message page has it too)."""
    ws = current_workspace(request)
    message = _message_or_404(ws, pk)
    size, problem = _audience_text(ws, message.audience)
    return render(request, "web/_audience_size.html", {"size": size, "problem": problem})


# --- the composers ----------------------------------------------------------------------


def _preview(fields: mf.Fields) -> dict[str, Any]:
    """What the bubble (or the mail client) will show, from the one renderer."""
    too_long = len(fields.body) > message_rules.MAX_BODY_LENGTH
    return {
        "p": fields,
        "body_html": "" if too_long else render_html(fields.body),
        "too_long": too_long,
        "initials": mf.initials(fields.sender_name),
        "max_body": message_rules.MAX_BODY_LENGTH,
    }


def _audience_box(ws: Workspace, channel: str, audience: Any) -> dict[str, Any]:
    """The live count under the filter bar (and, for email, who would be skipped)."""
    box: dict[str, Any] = {"channel": channel, "count": None, "reach": None, "problem": ""}
    try:
        if channel == Message.Channel.EMAIL:
            box["reach"] = insights.email_reach(ws, audience)
            box["count"] = box["reach"].matched
        else:
            box["count"] = insights.audience_size(ws, audience)
    except PaviorError as e:
        box["problem"] = e.message
    return box


def _bars_from_post(post: QueryDict) -> dict[str, Any]:
    rows = [r for r in listing.rows_from_form(post)]
    remove = listing.form_int(post.get("remove_condition"))
    if remove is not None and remove < len(rows):
        rows.pop(remove)
    rule_rows = [
        listing.Row(a, o, v)
        for a, o, v in zip(post.getlist("ra"), post.getlist("ro"), post.getlist("rv"), strict=False)
    ]
    remove = listing.form_int(post.get("remove_rule"))
    if remove is not None and remove < len(rule_rows):
        rule_rows.pop(remove)
    return {
        "rows": [r for r in rows if r.attribute],
        "join": post.get("join", "and"),
        "segment_id": listing.form_int(post.get("fs")),
        "rule_rows": [r for r in rule_rows if r.attribute],
        "rule_join": post.get("rjoin", "and"),
        "add_row": bool(post.get("add_condition")),
        "add_rule": bool(post.get("add_rule")),
        # Kept only when they are JSON (a hand-edited hidden field is dropped: the
        # filter bar's and the builder's rows stand).
        "audience_json": _json_text(post.get("audience_json", "")),
        "rules_json": _json_text(post.get("rules_json", "")),
    }


def _json_text(raw: str) -> str:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):
        return ""
    return raw


def _bars_of(message: Message | None) -> dict[str, Any]:
    audience = message.audience if message else None
    segment_id, rest = listing.split_segment(audience or None)
    rows, join, nested = listing.filter_to_rows(rest)
    rule_rows, rule_join, rules_nested = mf.rules_to_rows(message.rules if message else None)
    return {
        "rows": rows,
        "join": join,
        "segment_id": segment_id,
        "rule_rows": rule_rows,
        "rule_join": rule_join,
        "add_row": False,
        "add_rule": False,
        # Nested groups (written through the API) cannot be shown as rows: they
        # are kept as they are rather than flattened by a save.
        "audience_json": json.dumps(audience) if nested else "",
        "rules_json": json.dumps(message.rules) if message and rules_nested else "",
    }


def _composer(
    request: HttpRequest,
    ws: Workspace,
    message: Message | None,
    fields: mf.Fields,
    bars: dict[str, Any],
    *,
    error: PaviorError | None = None,
    http_status: int = 200,
) -> HttpResponse:
    attrs = listing.stored_attributes(ws)
    context: dict[str, Any] = {
        "nav": "messages",
        "message": message,
        "f": fields,
        "email": fields.channel == Message.Channel.EMAIL,
        "segments": list_segments(ws),
        "segment_id": bars["segment_id"],
        "audience_json": bars["audience_json"],
        "rules_json": bars["rules_json"],
        # A new message can be saved or go live; archiving is for one that exists.
        "status_buttons": STATUS_BUTTONS[message.status] if message else STATUS_BUTTONS["new"],
        "tz_name": ws.timezone or "UTC",
        **listing.filter_bar(bars["rows"], bars["join"], attrs, add_row=bars["add_row"]),
        **mf.rule_bar(bars["rule_rows"], bars["rule_join"], add_row=bars["add_rule"]),
        **_preview(fields),
    }
    if error is not None:
        slot = mf.error_slot(error.field)
        fields.errors[slot] = error.message
        context["rule_error_row"] = mf.rule_error_row(error.field)
    audience: Any = None
    if bars["audience_json"]:
        audience = json.loads(bars["audience_json"])
    else:
        lookup = {a.name: a for a in attrs}.get
        audience = listing.join_segment(
            bars["segment_id"], listing.rows_to_filter(bars["rows"], bars["join"], lookup)
        )
    context["box"] = _audience_box(ws, fields.channel, audience)
    return render(request, "web/message_compose.html", context, status=http_status)


def _default_sender(request: HttpRequest) -> str:
    user: Any = request.user
    return str(user.get_full_name() or user.get_username())


@login_required
@require_http_methods(["GET", "POST"])
def new_message(request: HttpRequest, channel: str) -> HttpResponse:
    ws = current_workspace(request)
    if channel not in CHANNEL_SLUGS:
        raise Http404("Messages are in-app or email")
    kind = CHANNEL_SLUGS[channel]
    if request.method == "GET":
        fields = mf.Fields(channel=kind, sender_name=_default_sender(request))
        return _composer(request, ws, None, fields, _bars_of(None))
    return _save(request, ws, None, mf.fields_from_post(request.POST, kind))


@login_required
@require_http_methods(["GET", "POST"])
def edit_message(request: HttpRequest, pk: int) -> HttpResponse:
    ws = current_workspace(request)
    message = _message_or_404(ws, pk)
    if request.method == "GET":
        fields = mf.fields_of(message, display.workspace_tz(ws))
        return _composer(request, ws, message, fields, _bars_of(message))
    return _save(request, ws, message, mf.fields_from_post(request.POST, message.channel))


_REBUILD = ("add_condition", "remove_condition", "add_rule", "remove_rule")


def _save(
    request: HttpRequest, ws: Workspace, message: Message | None, fields: mf.Fields
) -> HttpResponse:
    post = request.POST
    bars = _bars_from_post(post)
    if any(post.get(k) for k in _REBUILD):
        # A filter-bar or rules-builder button: the same form again, nothing saved.
        return _composer(request, ws, message, fields, bars)
    if fields.channel == Message.Channel.IN_APP and not fields.sender_name.strip():
        fields.sender_name = _default_sender(request)  # a chat is from someone
    lookup = {a.name: a for a in listing.stored_attributes(ws)}.get
    data = mf.message_data(post, fields, ws.timezone or "UTC", lookup)
    if bars["audience_json"]:
        data["audience"] = json.loads(bars["audience_json"])
    if bars["rules_json"] and "rules" in data:
        data["rules"] = json.loads(bars["rules_json"])
    to_status = post.get("to_status") or None
    try:
        if message is None:
            message = actions.create_message(
                ws, fields.channel, data, status=to_status or "draft", sender=request.user
            )
        else:
            message = actions.update_message(ws, message.pk, data, status=to_status)
    except PaviorError as e:
        return _composer(request, ws, message, fields, bars, error=e, http_status=422)
    if post.get("send_test"):
        sent, note = send_test_to(message, _address(request))
        (flash.success if sent else flash.error)(request, note)
        return redirect(f"/messages/{message.pk}/edit/")
    done = STATUS_DONE.get(to_status or "", "saved")
    flash.success(request, f'Message "{message}" {done}.')
    return redirect(f"/messages/{message.pk}/")


def _address(request: HttpRequest) -> str:
    user: Any = request.user
    return str(user.email or user.get_username())


def send_test_to(message: Message, address: str) -> tuple[bool, str]:
    """ "Send test to me": one copy to the signed-in member, recorded nowhere."""
    if not address or "@" not in address:
        return False, "Your account has no email address to send a test to."
    try:
        sending.send_test(message, address)
    except PaviorError as e:
        return False, f"The test email was not sent: {e.message}"
    except Exception as e:  # SMTP refused, connection failed: say so, never a 500
        log.warning("send_test failed for message %s: %s", message.pk, e)
        return False, f"The test email was not sent: {e}"
    return True, f"Test email sent to {address}."


# --- htmx fragments ---------------------------------------------------------------------


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    channel = request.POST.get("channel", "")
    if channel not in message_rules.CHANNELS:
        channel = Message.Channel.IN_APP
    fields = mf.fields_from_post(request.POST, channel)
    return render(request, "web/_message_preview.html", _preview(fields))


@login_required
@require_POST
def audience_count(request: HttpRequest) -> HttpResponse:
    ws = current_workspace(request)
    channel = request.POST.get("channel", "")
    if channel not in message_rules.CHANNELS:
        channel = Message.Channel.IN_APP
    raw = _json_text(request.POST.get("audience_json", ""))
    audience: Any = json.loads(raw) if raw else None
    if not raw:
        lookup = {a.name: a for a in listing.stored_attributes(ws)}.get
        audience = listing.filter_from_form(request.POST, lookup)
    return render(
        request, "web/_audience_count.html", {"box": _audience_box(ws, channel, audience)}
    )


# --- one message: status and stats ------------------------------------------------------


@login_required
@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    ws = current_workspace(request)
    message = _message_or_404(ws, pk)
    wanted = request.POST.get("status", "")
    try:
        message = actions.update_message(ws, message.pk, {}, status=wanted)
    except PaviorError as e:
        flash.error(request, f'Message "{message}" not changed: {e.message}')
    else:
        flash.success(request, f'Message "{message}" {STATUS_DONE.get(wanted, wanted)}.')
    return redirect(f"/messages/{message.pk}/")


@login_required
@require_GET
def message_page(request: HttpRequest, pk: int) -> HttpResponse:
    ws = current_workspace(request)
    message = _message_or_404(ws, pk)
    tz = display.workspace_tz(ws)
    stats = message_stats(message)
    daily = insights.daily_stats(message, tz)
    labels = [d.strftime("%b %-d") for d in daily.days]
    chart = grouped_bar_chart(
        " · ".join(label for _, label in daily.series) + " per day (unique users)",
        labels,
        [(stat, label, daily.counts[stat]) for stat, label in daily.series],
    )
    table = [
        {"day": day.isoformat(), "counts": [daily.counts[s][i] for s, _ in daily.series]}
        for i, day in enumerate(daily.days)
    ]
    size, problem = _audience_text(ws, message.audience)
    context: dict[str, Any] = {
        "nav": "messages",
        "message": message,
        "stats": stats,
        "totals": [(label, stats[key]) for key, label in STAT_COLUMNS[message.channel]],
        "daily": daily,
        "chart": chart,
        "table": list(reversed(table)),
        "size": size,
        "problem": problem,
        "status_buttons": STATUS_BUTTONS[message.status],
        "email": message.channel == Message.Channel.EMAIL,
        "preview_html": message.body_html,
        "initials": mf.initials(message.sender_name),
        "tz_name": ws.timezone or "UTC",
        "audience_text": json.dumps(message.audience) if message.audience else "",
        "rules_text": json.dumps(message.rules) if message.rules else "",
    }
    if context["email"] and message.status == Message.Status.DRAFT:
        # Before going live: who would get it and who would be skipped (SPEC §13).
        context["box"] = _audience_box(ws, message.channel, message.audience)
    if context["email"]:
        done = stats["sent"] + stats["failed"] + stats["skipped"]
        context["progress"] = {"done": done, "total": done + stats["pending"], **stats}
        context["reasons"] = [
            (label, found)
            for label, state in (("Skipped", "skipped"), ("Failed", "failed"))
            if (found := insights.reasons(message, state))
        ]
    return render(request, "web/message.html", context)
