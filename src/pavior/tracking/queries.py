"""Reading the raw activity: what a person did recently, for their profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pavior.people.models import Person
from pavior.tracking.models import RawEvent
from pavior.workspaces.models import Workspace

# Heartbeats and clicks keep visits and time exact, but listing them would
# bury the page views a person reading a profile is looking for.
NOISE = ("heartbeat", "interaction", "hide")

LABELS = {
    "page": "Viewed a page",
    "init": "Identified on the website",
    "update": "Updated from the website",
    "shutdown": "Logged out",
}


@dataclass(frozen=True)
class Activity:
    at: datetime
    type: str
    label: str
    url: str | None
    website: bool


def recent_events(workspace: Workspace, person: Person, *, limit: int = 20) -> list[Activity]:
    rows = (
        RawEvent.objects.filter(workspace=workspace, person=person)
        .exclude(type__in=NOISE)
        .order_by("-at", "-pk")
        .values_list("at", "type", "website", "data")[:limit]
    )
    out = []
    for at, type_, website, data in rows:
        url = data.get("url") if isinstance(data, dict) else None
        label = LABELS.get(type_, type_.replace("_", " ").capitalize())
        out.append(Activity(at=at, type=type_, label=label, url=url, website=website))
    return out
