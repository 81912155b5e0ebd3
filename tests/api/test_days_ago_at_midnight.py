"""'N days ago' at the day boundary, with the server clock held there: exactly_days_ago
is a calendar day of the workspace's zone and moves at its midnight; the
more/less-than operators count whole days back from this instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pavior.core.clock import FakeClock, use_clock

TOKYO = ZoneInfo("Asia/Tokyo")
# One second before midnight in Tokyo (14:59:59 UTC): in UTC it is still mid-afternoon.
BEFORE_MIDNIGHT = datetime(2024, 5, 10, 23, 59, 59, tzinfo=TOKYO)


def local(*args: int) -> str:
    return datetime(*args, tzinfo=TOKYO).astimezone(UTC).isoformat()


@pytest.fixture
def dated(api):
    assert api.patch("/workspace", {"timezone": "Asia/Tokyo"}).status_code == 200
    assert api.post("/attributes", {"name": "renewal_at", "type": "date"}).status_code == 201
    values = {
        "d6_last": local(2024, 5, 6, 23, 59, 59),
        "d7_first": local(2024, 5, 7, 0, 0, 0),
        "d7_last": local(2024, 5, 7, 23, 59, 59),
        "d8_first": local(2024, 5, 8, 0, 0, 0),
    }
    for uid, when in values.items():
        assert api.put(f"/users/{uid}", {"renewal_at": when}).status_code == 201
    return values


def ids(api, op, value, attribute="renewal_at"):
    flt = {"attribute": attribute, "op": op, "value": value}
    r = api.post("/users/search", {"filter": flt, "limit": 100})
    assert r.status_code == 200, r.content
    count = api.post("/users/count", {"filter": flt}).json()["count"]
    assert count == r.json()["total"]
    return sorted(u["id"] for u in r.json()["users"])


def test_exactly_days_ago_moves_at_the_workspace_midnight(api, dated):
    with use_clock(FakeClock(BEFORE_MIDNIGHT.astimezone(UTC))) as clock:
        assert ids(api, "exactly_days_ago", 3) == ["d7_first", "d7_last"]
        clock.advance(1)  # 00:00:00 on 11 May in Tokyo, still 10 May in UTC
        assert ids(api, "exactly_days_ago", 3) == ["d8_first"]
        assert ids(api, "exactly_days_ago", 4) == ["d7_first", "d7_last"]


def test_more_and_less_than_days_ago_count_from_the_instant(api, dated):
    now = datetime(2024, 5, 14, 0, 0, 0, tzinfo=TOKYO)  # 7 days after d7_first
    with use_clock(FakeClock(now.astimezone(UTC))) as clock:
        assert ids(api, "more_than_days_ago", 7) == ["d6_last"]
        assert ids(api, "less_than_days_ago", 7) == ["d7_last", "d8_first"]
        clock.advance(1)  # d7_first is now 7 days and 1 second ago
        assert ids(api, "more_than_days_ago", 7) == ["d6_last", "d7_first"]


def test_built_in_dates_use_the_same_clock(api, dated):
    from pavior.people.models import Person

    Person.objects.filter(external_id="d7_last").update(
        last_seen_at=datetime.fromisoformat(dated["d7_last"])
    )
    with use_clock(FakeClock(BEFORE_MIDNIGHT.astimezone(UTC))) as clock:
        assert ids(api, "exactly_days_ago", 3, "last_seen_at") == ["d7_last"]
        clock.advance(1)
        assert ids(api, "exactly_days_ago", 3, "last_seen_at") == []
        assert ids(api, "less_than_days_ago", 4, "last_seen_at") == ["d7_last"]
        clock.advance(timedelta(days=1).total_seconds())
        assert ids(api, "less_than_days_ago", 4, "last_seen_at") == []
