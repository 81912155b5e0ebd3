"""What the admin pages show about messages: audience sizes, email reach, stats per day.

Read-only. The audience is parsed as every door parses a filter
(`parse_workspace_filter`) and counted by the one filter compiler
(`filtered_people`), so a message's audience size is the users list's count
for the same filter.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from pavior.messaging.models import Delivery, Message
from pavior.segments.queries import count_people
from pavior.segments.saved import parse_workspace_filter
from pavior.workspaces.models import Workspace

# Days a stats chart covers at most (the most recent ones).
MAX_DAYS = 92

# Per channel: (stat, label, Delivery column whose day counts, extra condition).
# A failed or skipped row keeps no time of its outcome: it counts on the day
# it was queued (created_at).
DAILY_SERIES: dict[str, list[tuple[str, str, str, Q]]] = {
    "in_app": [
        ("shown", "Shown", "shown_at", Q()),
        ("dismissed", "Dismissed", "dismissed_at", Q()),
        ("clicked", "Clicked", "clicked_at", Q()),
    ],
    "email": [
        ("sent", "Sent", "sent_at", Q(state=Delivery.State.SENT)),
        ("failed", "Failed", "created_at", Q(state=Delivery.State.FAILED)),
        ("skipped", "Skipped", "created_at", Q(state=Delivery.State.SKIPPED)),
    ],
}


def audience_size(workspace: Workspace, audience: Any) -> int:
    """Users who match the audience now (all users for an empty one).

    Raises the filter's PaviorError when the audience no longer parses
    (e.g. an attribute it names was deleted since)."""
    node = parse_workspace_filter(workspace, audience or None)
    return count_people(workspace, node)


@dataclass
class EmailReach:
    """An email audience now: who would get it and who would be skipped, and why."""

    matched: int
    no_email: int
    unsubscribed: int
    suppressed: int

    @property
    def sendable(self) -> int:
        return self.matched - self.no_email - self.unsubscribed - self.suppressed


def email_reach(workspace: Workspace, audience: Any) -> EmailReach:
    """SPEC §13's "only to those who may get it", counted before going live.

    Each user is counted under the first reason that applies: no email, then
    unsubscribed, then a suppressed address (bounce or complaint)."""
    from pavior.messaging.outbox import audience_outlook

    counts = audience_outlook(workspace, audience)
    return EmailReach(
        matched=counts["matched"],
        no_email=counts["no_email"],
        unsubscribed=counts["unsubscribed"],
        suppressed=counts["suppressed"],
    )


@dataclass
class Daily:
    """Unique users per day and outcome, in the workspace time zone."""

    series: list[tuple[str, str]]  # (stat, label)
    days: list[date]
    counts: dict[str, list[int]]  # stat -> one count per day
    cut: bool  # older days were left out (more than MAX_DAYS)


def daily_stats(message: Message, tz: zoneinfo.ZoneInfo, *, today: date | None = None) -> Daily:
    """Per-day counts of the message's outcomes from its delivery rows: every
    day from its first (going live, or the first row) to today, zeros included."""
    spec = DAILY_SERIES[message.channel]
    today = today or timezone.now().astimezone(tz).date()
    found: dict[str, dict[date, int]] = {}
    first: date | None = None
    for stat, _, column, extra in spec:
        rows = (
            Delivery.objects.filter(extra, message=message, **{f"{column}__isnull": False})
            .annotate(day=TruncDate(column, tzinfo=tz))
            .values("day")
            .annotate(n=Count("id"))
        )
        found[stat] = {r["day"]: r["n"] for r in rows}
        for day in found[stat]:
            first = day if first is None or day < first else first
    if message.went_live_at is not None:
        live_day = _local_day(message.went_live_at, tz)
        first = live_day if first is None or live_day < first else first
    if first is None:
        return Daily([(s, label) for s, label, _, _ in spec], [], {s: [] for s, *_ in spec}, False)
    last = max(today, *(max(f) for f in found.values() if f)) if any(found.values()) else today
    last = max(last, first)
    cut = (last - first).days + 1 > MAX_DAYS
    if cut:
        first = last - timedelta(days=MAX_DAYS - 1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return Daily(
        series=[(s, label) for s, label, _, _ in spec],
        days=days,
        counts={stat: [found[stat].get(d, 0) for d in days] for stat in found},
        cut=cut,
    )


def reasons(message: Message, state: str, *, limit: int = 10) -> list[tuple[str, int]]:
    """Users per reason of one outcome (skipped or failed), most first."""
    rows = (
        Delivery.objects.filter(message=message, state=state)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:limit]
    )
    return [(r["reason"] or "no reason given", r["n"]) for r in rows]


def _local_day(moment: datetime, tz: zoneinfo.ZoneInfo) -> date:
    return moment.astimezone(tz).date()
