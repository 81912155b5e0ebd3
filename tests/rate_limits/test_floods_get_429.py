"""A flood past a limit gets 429 with Retry-After and the house error body;
calls under it go through, and one key or address being limited leaves the
others alone. Over HTTP against the served application (pavior.asgi under
uvicorn), so the lean tracking intake is the one production runs."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import error_of

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 3


def track(base: str, app_id: str, forwarded: str | None = None) -> httpx.Response:
    body = {
        "app_id": app_id,
        "user": {"id": "u-1"},
        "events": [{"message_id": str(uuid.uuid4()), "type": "page", "url": "https://x.test/"}],
    }
    headers = {
        "Content-Type": "text/plain",
        **({"X-Forwarded-For": forwarded} if forwarded else {}),
    }
    return httpx.post(f"{base}/api/v1/track", content=json.dumps(body), headers=headers)


def segment(base: str, write_key: str) -> httpx.Response:
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    body = {"userId": "u-1", "traits": {"plan": "pro"}, "messageId": str(uuid.uuid4())}
    return httpx.post(f"{base}/v1/identify", json=body, headers={"Authorization": f"Basic {auth}"})


def rest(base: str, api_key: str) -> httpx.Response:
    return httpx.get(f"{base}/api/v1/workspace", headers={"Authorization": f"Bearer {api_key}"})


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    error = error_of(response)
    assert error["code"] == "rate_limited"
    assert "retry after" in error["message"]


def two_workspaces() -> tuple[Any, Any]:
    from pavior.workspaces.actions import create_workspace

    return create_workspace("Acme"), create_workspace("Globex")


def test_tracking_per_app_id(served: Any, rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY = LIMIT
    acme, globex = two_workspaces()
    for _ in range(LIMIT):
        assert track(served.url, acme.workspace.app_id).status_code == 200
    limited = track(served.url, acme.workspace.app_id)
    assert_limited(limited)
    # The snippet on another origin must be able to read how long to wait.
    assert limited.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in limited.headers["Access-Control-Expose-Headers"]
    assert track(served.url, globex.workspace.app_id).status_code == 200


def test_tracking_per_client_address(served: Any, rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS = LIMIT
    rate_limits.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]
    acme, globex = two_workspaces()
    for n in range(LIMIT):  # one visitor, across sites
        ws = (acme, globex)[n % 2].workspace
        assert track(served.url, ws.app_id, "198.51.100.1").status_code == 200
    assert_limited(track(served.url, globex.workspace.app_id, "198.51.100.1"))
    assert track(served.url, globex.workspace.app_id, "198.51.100.2").status_code == 200


def test_an_untrusted_forwarded_header_does_not_escape_the_address_limit(
    served: Any, rate_limits: Any
) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_ADDRESS = LIMIT
    acme, _ = two_workspaces()
    for n in range(LIMIT):
        assert track(served.url, acme.workspace.app_id, f"198.51.100.{n}").status_code == 200
    assert_limited(track(served.url, acme.workspace.app_id, "203.0.113.1"))


def test_segment_per_write_key(served: Any, rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_TRACKING_PER_KEY = LIMIT
    rate_limits.PAVIOR_RATE_LIMIT_API_PER_KEY = LIMIT
    acme, globex = two_workspaces()
    for key in (acme.workspace.app_id, acme.api_key):  # browser and server trust
        for _ in range(LIMIT):
            assert segment(served.url, key).status_code == 200
        assert_limited(segment(served.url, key))
    assert segment(served.url, globex.workspace.app_id).status_code == 200
    assert segment(served.url, globex.api_key).status_code == 200


def test_rest_per_api_key(served: Any, rate_limits: Any) -> None:
    rate_limits.PAVIOR_RATE_LIMIT_API_PER_KEY = LIMIT
    acme, globex = two_workspaces()
    for _ in range(LIMIT):
        assert rest(served.url, acme.api_key).status_code == 200
    assert_limited(rest(served.url, acme.api_key))
    assert rest(served.url, globex.api_key).status_code == 200


def test_sign_in_per_address(served: Any, rate_limits: Any) -> None:
    from pavior.workspaces.actions import create_admin
    from tests.web.test_sign_in_lockout import attempt

    ws = two_workspaces()[0].workspace
    create_admin("owner@example.com", "correct horse battery staple", workspaces=[ws])
    rate_limits.PAVIOR_RATE_LIMIT_SIGN_IN_PER_ADDRESS = LIMIT
    rate_limits.PAVIOR_TRUSTED_PROXIES = ["127.0.0.1"]
    for _ in range(LIMIT):  # right or wrong, every attempt counts
        r = attempt(served.url, "owner@example.com", "correct horse battery staple", "198.51.100.1")
        assert r.status_code == 302
    r = attempt(served.url, "owner@example.com", "correct horse battery staple", "198.51.100.1")
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    assert "Too many sign-in attempts" in r.text
    r = attempt(served.url, "owner@example.com", "correct horse battery staple", "198.51.100.2")
    assert r.status_code == 302
