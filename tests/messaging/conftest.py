"""Fixtures for messaging tests: a user who was sent an email and its unsubscribe
link; live messages, users seen by the intake, and calls to the served messenger
endpoints (pavior.asgi under uvicorn)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pavior.core.attributes import Trust
from pavior.messaging.actions import create_message


@dataclass
class Emailed:
    workspace: Any
    person: Any
    message: Any
    token: str

    def link(self, base: str) -> str:
        return f"{base}/email/unsubscribe/{self.token}"

    def reload(self) -> Any:
        self.person.refresh_from_db()
        return self.person


def email_someone(workspace: Any, user_id: str = "u1", email: str = "ada@example.com") -> Emailed:
    """A user with an email address, an email message sent to them, and its link."""
    from pavior.messaging.actions import create_message
    from pavior.messaging.models import Delivery
    from pavior.messaging.tokens import make_token
    from pavior.people.actions import upsert_user
    from pavior.people.models import Person

    upsert_user(workspace, {"id": user_id, "email": email, "name": "Ada"}, trust=Trust.SECRET)
    person = Person.objects.get(workspace=workspace, external_id=user_id)
    message = create_message(workspace, "email", {"subject": "Spring news", "body": "Hello"})
    Delivery.objects.create(
        workspace=workspace, message=message, person=person, state=Delivery.State.SENT
    )
    return Emailed(workspace, person, message, make_token(workspace.pk, person.pk, message.pk))


@pytest.fixture
def emailed(transactional_db: Any) -> Emailed:
    from pavior.workspaces.actions import create_workspace

    return email_someone(create_workspace("Acme").workspace)


PRICING = {"attribute": "current_page_url", "op": "contains", "value": "/pricing"}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Candidate versions and live state live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def live_message(workspace: Any, **fields: Any) -> Any:
    data = {"kind": "announcement", "title": "Hello", "body": "Hi **there**"}
    data.update(fields)
    return create_message(workspace, "in_app", data, status="live")


def track(
    served: Any,
    app_id: str,
    user: dict[str, Any],
    *,
    version: str | None = None,
    ask: bool = True,
    url: str = "https://shop.example/",
) -> httpx.Response:
    """One snippet batch (a page view) asking, as the snippet does, for the
    user's messages unless `ask` is False; `version` is the one it holds."""
    import uuid

    body: dict[str, Any] = {
        "app_id": app_id,
        "user": user,
        "events": [{"message_id": str(uuid.uuid4()), "type": "page", "url": url}],
    }
    if ask:
        body["messages_version"] = version
    return httpx.post(
        served.url + "/api/v1/track",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )


def messenger(
    served: Any, action: str, app_id: str, user: dict[str, Any], **extra: Any
) -> httpx.Response:
    body = {"app_id": app_id, "user": user, **extra}
    return httpx.post(
        f"{served.url}/api/v1/messenger/{action}",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def host_site() -> Iterator[dict[str, Any]]:
    """A customer's website on its own origin with a strict CSP: scripts, styles
    and connections only from itself and the Pavior origin (state["pavior"]),
    no inline script or style. `/site.js` is the page's own script
    (state["js"]); every other path serves state["html"]."""
    state: dict[str, Any] = {"html": "", "js": "", "pavior": "", "csp_reports": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            js = self.path.startswith("/site.js")
            body = (state["js"] if js else state["html"]).encode()
            self.send_response(200)
            kind = "text/javascript" if js else "text/html; charset=utf-8"
            self.send_header("Content-Type", kind)
            if not js:
                p = state["pavior"]
                self.send_header(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src 'self' {p}; style-src 'self' {p}; "
                    f"connect-src 'self' {p}; img-src 'self'; object-src 'none'; "
                    "base-uri 'none'; report-uri /csp-report",
                )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            state["csp_reports"].append(self.rfile.read(length).decode("utf-8", "replace"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # localhost, not 127.0.0.1: another origin than Pavior's.
    state["url"] = f"http://localhost:{server.server_address[1]}"
    yield state
    server.shutdown()


# The real SMTP server's fixtures (aiosmtpd), defined in their own module.
from tests.messaging.smtp_sink import email_settings, smtp  # noqa: E402, F401
