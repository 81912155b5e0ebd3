"""Under a real `pavior serve` (whose worker folds), a page view of a new
visitor shows in their last activity within seconds of the answer."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.cli_database import query
from tests.tracking.real_serve import real_serve

# Generous: the folder wakes every 50 ms, but CI machines are loaded.
WITHIN_SECONDS = 5


def test_a_page_view_is_folded_within_seconds(tmp_path):
    with real_serve(tmp_path, "fold_lag") as serve:
        user = f"visitor-{uuid.uuid4().hex[:8]}"
        now = int(time.time() * 1000)
        body = {
            "app_id": serve.app_id,
            "user": {"id": user},
            "events": [{"message_id": str(uuid.uuid4()), "type": "page", "at": now}],
            "sent_at": now,
        }
        r = httpx.post(f"{serve.url}/api/v1/track", json=body, timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        answered = time.monotonic()
        sql = f"SELECT last_activity_at FROM people_person WHERE external_id = '{user}'"
        rows = query(serve.env, sql)
        assert len(rows) == 1  # the new visitor exists as soon as answered
        while rows == [(None,)]:
            assert time.monotonic() - answered < WITHIN_SECONDS, "not folded in time"
            time.sleep(0.02)
            rows = query(serve.env, sql)
        assert rows[0][0] is not None and serve.pending() == 0
