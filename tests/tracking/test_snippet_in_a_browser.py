"""The install snippet on a real page of another origin, in Chromium (SPEC §5)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from pavior.core.identity import user_hash
from pavior.people.actions import create_attribute
from pavior.people.models import Person
from pavior.tracking.live import get_live_attributes
from pavior.tracking.models import RawEvent
from pavior.workspaces.actions import create_workspace, update_workspace_settings
from tests.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)

STUB = (
    "window.Pavior = window.Pavior || function () "
    "{ (window.Pavior.q = window.Pavior.q || []).push(arguments); };"
)


def page_html(script_src: str, init: dict[str, Any]) -> str:
    return f"""<!doctype html><html><head><title>Shop</title></head><body>
<h1>Shop</h1><button id="buy">Buy</button><input id="q" aria-label="Search">
<script>
{STUB}
Pavior('init', {json.dumps(init)});
Pavior('update', {{"plan": "team"}});
(function () {{
  var s = document.createElement('script'); s.async = true; s.src = {json.dumps(script_src)};
  document.head.appendChild(s);
}})();
</script></body></html>"""


@pytest.fixture
def flaky_proxy(served: Any) -> Iterator[dict[str, Any]]:
    """In front of Pavior: the first `fail` track POSTs get a 503, the rest pass through."""
    target = urlsplit(served.url)
    state: dict[str, Any] = {"fail": 0, "failed": 0, "sent_ids": []}

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.command == "POST" and self.path.startswith("/api/v1/track"):
                ids = [e["message_id"] for e in json.loads(body)["events"]]
                state["sent_ids"].extend(ids)
                if state["failed"] < state["fail"]:
                    state["failed"] += 1
                    self.send_response(503)
                    self.send_header("Access-Control-Allow-Origin", "*")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

        do_GET = do_POST = do_OPTIONS = _forward  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://localhost:{server.server_address[1]}"
    yield state
    server.shutdown()


def wait_for(check: Callable[[], Any], timeout: float = 15.0, page: Any = None) -> Any:
    """Poll ``check``; with a page, let Playwright deliver its events meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check.__doc__ or check}")
        if page is not None:
            page.wait_for_timeout(200)
        else:
            time.sleep(0.2)


def _person(ws: Any, user_id: str = "u1") -> Person | None:
    return Person.objects.filter(workspace=ws, external_id=user_id).first()


def test_the_snippet_tracks_a_visit(page, served, site):
    new = create_workspace("Shop")
    ws = new.workspace
    create_attribute(ws, "seats", "number")
    init = {
        "app_id": ws.app_id,
        "id": "u1",
        "email": "ada@x.io",
        "user_hash": user_hash(new.identity_secret, "u1"),
        "plan": "pro",
        "seats": "many",
    }
    site["html"] = page_html(f"{served.url}/pavior.js", init)
    page.goto(site["url"] + "/")

    def updated() -> bool:
        p = _person(ws)
        return p is not None and p.custom.get("plan") == "team" and p.total_visits == 1

    wait_for(updated)
    p = _person(ws)
    assert p is not None
    assert (p.email, p.signed_up_at is not None) == ("ada@x.io", True)
    assert "seats" not in p.custom
    wait_for(lambda: any("seats" in m for m in page.probe.console_errors), page=page)
    types = list(RawEvent.objects.filter(person=p).order_by("id").values_list("type", flat=True))
    assert types[:3] == ["init", "page", "update"]  # the queued calls, in order

    live = wait_for(lambda: get_live_attributes(ws.pk, "u1"))
    assert live["current_page_url"] == site["url"] + "/"
    assert live["interacted_in_current_session"] is False

    page.click("#buy")
    page.evaluate("history.pushState({}, '', '/pricing')")

    def on_pricing() -> Any:
        live = get_live_attributes(ws.pk, "u1")
        return live and live["current_page_url"].endswith("/pricing") and live

    live = wait_for(on_pricing)
    assert live["interacted_in_current_session"] is True
    urls = RawEvent.objects.filter(person=p, type="page").values_list("data__url", flat=True)
    assert sorted(urls) == [site["url"] + "/", site["url"] + "/pricing"]
    screenshot(page, "tracking-snippet-visit")
    assert page.probe.dialogs == []


def test_every_event_arrives_exactly_once_through_failures(page, served, site, flaky_proxy):
    ws = create_workspace("Shop").workspace
    flaky_proxy["fail"] = 4
    init = {"app_id": ws.app_id, "id": "u1", "plan": "pro"}
    site["html"] = page_html(f"{flaky_proxy['url']}/pavior.js", init)
    page.goto(site["url"] + "/")
    wait_for(lambda: flaky_proxy["failed"] >= 1)
    # Reload while the endpoint still fails: the queue survives in localStorage.
    page.reload()
    page.evaluate("history.pushState({}, '', '/next')")
    page.click("#buy")

    def all_delivered() -> bool:
        ids = set(flaky_proxy["sent_ids"])
        stored = set(RawEvent.objects.filter(workspace=ws).values_list("message_id", flat=True))
        return flaky_proxy["failed"] == 4 and bool(ids) and ids <= stored

    wait_for(all_delivered, timeout=40)
    sent = flaky_proxy["sent_ids"]
    assert len(sent) > len(set(sent))  # the failed batches really were sent again
    stored = list(RawEvent.objects.filter(workspace=ws).values_list("message_id", flat=True))
    assert len(stored) == len(set(stored)) == len(set(sent))
    types = sorted(RawEvent.objects.filter(workspace=ws).values_list("type", flat=True))
    assert types.count("init") == 2 and types.count("page") == 3  # two loads + /next
    assert _person(ws).custom == {"plan": "team"}


def test_a_wrong_user_hash_is_refused_in_required_mode(page, served, site):
    ws = create_workspace("Shop").workspace
    update_workspace_settings(ws, {"identity_verification": "required"})
    init = {"app_id": ws.app_id, "id": "u1", "user_hash": "0" * 64}
    site["html"] = page_html(f"{served.url}/pavior.js", init)
    page.goto(site["url"] + "/")
    wait_for(lambda: any("403" in m for m in page.probe.console_errors), page=page)
    assert not Person.objects.exists()
    assert not RawEvent.objects.exists()
    # A refused batch is not retried: the queue is empty again.
    assert page.evaluate("JSON.parse(localStorage.getItem('pavior:queue') || '[]').length") == 0
