"""Calls to the intake as production serves it (pavior.asgi under uvicorn), for
the identity tests: the snippet's batches and Segment calls, over HTTP."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt

from tests.tracking.conftest import event


def track(served: Any, app_id: str, user: dict[str, Any], *events: dict[str, Any]) -> Any:
    """POST one batch to /api/v1/track as the snippet does (text/plain JSON)."""
    body = {"app_id": app_id, "user": user, "events": list(events) or [event("page")]}
    return httpx.post(f"{served.url}/api/v1/track", json=body, timeout=30)


def init(
    served: Any, app_id: str, user: dict[str, Any], attributes: dict[str, Any] | None = None
) -> Any:
    return track(served, app_id, user, event("init", attributes=attributes or {}))


def segment(served: Any, write_key: str, path: str, body: dict[str, Any]) -> Any:
    """A Segment call authenticated the way Segment's libraries do (Basic, key as user)."""
    auth = base64.b64encode(f"{write_key}:".encode()).decode()
    body = {"messageId": str(uuid.uuid4()), **body}
    return httpx.post(
        f"{served.url}{path}", json=body, headers={"Authorization": f"Basic {auth}"}, timeout=30
    )


def user_jwt(secret: str, algorithm: str = "HS256", **claims: Any) -> str:
    """A user_jwt as a site's server signs it; valid for ten minutes unless told."""
    claims.setdefault("exp", int(time.time()) + 600)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def site_page(served: Any, init: dict[str, Any]) -> str:
    """A page of the site that loads the snippet from Pavior and calls init."""
    return f"""<!doctype html><html><body><h1>Shop</h1>
<script src="{served.url}/pavior.js"></script>
<script>Pavior('init', {json.dumps(init)});</script></body></html>"""
