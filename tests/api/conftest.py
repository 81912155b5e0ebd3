"""Helpers for API tests that also need what a browser sends."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx


def browser_init(served: Any, app_id: str, user_id: str, attributes: dict[str, Any]) -> Any:
    """What the snippet sends on init, to the intake as production serves it."""
    now = int(time.time() * 1000)
    body = {
        "app_id": app_id,
        "user": {"id": user_id},
        "events": [
            {"message_id": str(uuid.uuid4()), "type": "init", "at": now, "attributes": attributes}
        ],
        "sent_at": now,
    }
    r = httpx.post(
        served.url + "/api/v1/track",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": "https://shop.example"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()
