"""When the intake says 429, the snippet in a real browser waits as long as
Retry-After says (no hammering), then delivers the queued events once the
limit allows. Chromium on a customer's page of another origin, against the
served application (pavior.asgi under uvicorn)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from pavior.people.models import Person
from pavior.workspaces.actions import create_workspace

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 6  # seconds: short, so the test sees the limit lift


def shop_page(script_src: str, app_id: str) -> str:
    init = json.dumps({"app_id": app_id, "id": "u1"})
    return f"""<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>
<script>
window.Pavior = window.Pavior ||
  function () {{ (window.Pavior.q = window.Pavior.q || []).push(arguments); }};
Pavior('init', {init});
var s = document.createElement('script'); s.async = true; s.src = {json.dumps(script_src)};
document.head.appendChild(s);
</script></body></html>"""


def test_the_snippet_waits_retry_after_then_delivers(
    served: Any, rate_limits: Any, page: Any, site: dict[str, str]
) -> None:
    ws = create_workspace("Acme").workspace
    rate_limits.PAVIOR_RATE_LIMIT_WINDOW = WINDOW
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY = 1
    site["html"] = shop_page(f"{served.url}/pavior.js", ws.app_id)
    seen: list[tuple[float, int, int]] = []  # (when, status, Retry-After)
    page.on(
        "response",
        lambda r: (
            seen.append((time.monotonic(), r.status, int(r.headers.get("retry-after", "0"))))
            if r.url.endswith("/api/v1/track") and r.request.method == "POST"
            else None
        ),
    )
    # Start at the top of a window and use its one allowed call, so the page's
    # first batch is refused for most of the window.
    time.sleep(WINDOW - time.time() % WINDOW)
    other = {"app_id": ws.app_id, "user": {"id": "u0"}, "events": []}
    other["events"] = [{"message_id": str(uuid.uuid4()), "type": "page"}]
    assert httpx.post(f"{served.url}/api/v1/track", content=json.dumps(other)).status_code == 200

    page.goto(site["url"] + "/")
    deadline = time.monotonic() + 4 * WINDOW
    while not any(status == 200 for _, status, _ in seen) and time.monotonic() < deadline:
        page.wait_for_timeout(100)

    statuses = [status for _, status, _ in seen]
    assert statuses[:2] == [429, 200], seen  # one refusal, then the wait was long enough
    (refused_at, _, retry_after), (delivered_at, _, _) = seen[:2]
    assert retry_after >= 1
    assert delivered_at - refused_at >= retry_after - 0.3, seen
    assert Person.objects.get(workspace=ws, external_id="u1").total_visits == 1
