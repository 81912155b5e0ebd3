"""Tracking test helpers: post batches to the served intake (pavior.asgi under
uvicorn, the `served` fixture) with a controlled clock.

The server runs in a thread of the test's process, so the fake clock, the
GeoIP reader, the settings and the local-memory cache are the server's too.
Modules using these need `pytestmark = pytest.mark.django_db(transaction=True)`:
the server's writer commits on its own connection."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
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


def post(served: Any, path: str, content: str | bytes, **headers: str) -> httpx.Response:
    """POST a raw body to the served application, as a browser's fetch would
    (text/plain: no CORS preflight)."""
    headers = {"Content-Type": "text/plain", **headers}
    return httpx.post(served.url + path, content=content, headers=headers, timeout=30)


def post_batch(
    served: Any,
    app_id: str,
    user: dict[str, Any],
    events: list[dict[str, Any]],
    *,
    sent_at: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a snippet batch to the served /api/v1/track."""
    body: dict[str, Any] = {"app_id": app_id, "user": user, "events": events}
    if sent_at is not None:
        body["sent_at"] = ms(sent_at)
    return post(served, "/api/v1/track", json.dumps(body), **(headers or {}))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# The cache behind live attributes: the SQLite file (the default without
# Redis, pavior.sqlite_cache) always, and Redis too when REDIS_URL names one
# (CI), so both backends Pavior uses are exercised.
CACHE_BACKENDS = {
    "sqlite": {
        "BACKEND": "pavior.sqlite_cache.SQLiteCache",
        "LOCATION": os.path.join(os.environ["PAVIOR_DATA_DIR"], "cache-backends.sqlite3"),
    },
    **(
        {
            "redis": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["REDIS_URL"],
            }
        }
        if os.environ.get("REDIS_URL")
        else {}
    ),
}


@pytest.fixture(params=sorted(CACHE_BACKENDS))
def cache_backend(request: Any, settings: Any) -> Any:
    """Django's cache pointed at each backend in turn (the server thread's too:
    changing CACHES resets every thread's cache handles)."""
    from django.core.cache import cache

    settings.CACHES = {"default": CACHE_BACKENDS[request.param]}
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Live state lives in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def site() -> Iterator[dict[str, Any]]:
    """A customer's website on its own origin: every path serves the same page."""
    state: dict[str, Any] = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = state["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
