"""Who else holds on to a segment, and who hears that one changed.

Segments sit below messaging (imports point down), so they cannot look up
which messages use them. A package above registers a check here instead; a
check returns a sentence naming what uses the segment (refusing the delete
with a 409), or None.

Messages (SPEC §12, §13) do not exist yet. When they do, messaging's
AppConfig.ready() registers, e.g.:

    def live_message_check(segment):
        message = live_message_using(segment)
        return f'live message "{message.title}" targets it' if message else None

    segment_in_use_checks.append(live_message_check)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pavior.people.hooks import Hook
from pavior.segments.models import Segment

SegmentInUseCheck = Callable[[Segment], str | None]

segment_in_use_checks: list[SegmentInUseCheck] = []


@dataclass(frozen=True)
class SegmentChanged:
    """A segment was created, refiltered, renamed or deleted. Whatever holds a
    filter naming segments parsed (message audiences, compiled for matching)
    reads it again. Emitted after the change commits, like the people hooks."""

    workspace_id: int
    segment_id: int


# Subscribed in a package's AppConfig.ready(): segment_changed.subscribe(fn).
segment_changed: Hook[SegmentChanged] = Hook("segment_changed")
