"""Tracking test helpers: post batches through the real intake with a controlled clock."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pavior.tracking.clock import FakeClock, use_clock

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_clock() -> Any:
    with use_clock(FakeClock(T0)) as c:
        yield c


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def event(type: str = "page", at: Any = None, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"message_id": extra.pop("message_id", None) or str(uuid.uuid4())}
    e["type"] = type
    if at is not None:
        e["at"] = ms(at) if isinstance(at, datetime) else at
    e.update(extra)
    return e


def post_batch(
    client: Any,
    app_id: str,
    user: dict[str, Any],
    events: list[dict[str, Any]],
    *,
    sent_at: datetime | None = None,
    **headers: Any,
) -> Any:
    body: dict[str, Any] = {"app_id": app_id, "user": user, "events": events}
    if sent_at is not None:
        body["sent_at"] = ms(sent_at)
    return client.post("/api/v1/track", data=json.dumps(body), content_type="text/plain", **headers)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Live state lives in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
