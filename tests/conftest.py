"""Shared fixtures: a workspace with its secret key, and an API client for it."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest

# Subprocesses started by tests (the CLI, `pavior serve`) keep their files out of
# the repo. (Settings themselves are loaded by pytest-django before this file.)
# A directory of our own only when none is given, removed when the run ends.
if not os.environ.get("PAVIOR_DATA_DIR"):
    _data_dir = tempfile.mkdtemp(prefix="pavior-test-")
    os.environ["PAVIOR_DATA_DIR"] = _data_dir
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Background tasks run at once, in the test's process and transaction.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Every test client comes from 127.0.0.1 and the suite signs in and tracks far
    # more often than any visitor: rate limits are off unless a test asks for them
    # (the `rate_limits` fixture).
    settings.PAVIOR_RATE_LIMITS = False
    # The shared cache outlives a run (a file in the data dir, or Redis): start
    # each run without what an earlier one left for the same workspace ids.
    from django.core.cache import caches

    for name in ("default", "candidates"):
        caches[name].clear()


@dataclass
class ApiClient:
    """Django's test client speaking JSON with a bearer key."""

    client: Any
    key: str

    def call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.key}", **extra}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("get", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("put", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("patch", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("delete", path, **kw)


@pytest.fixture
def rate_limits(settings: Any) -> Any:
    """Rate limits on, with fresh counters and a window that has just begun (a
    fixed window restarting mid-test would reset the counts). Lower the limits
    through the returned settings, e.g. `rate_limits.PAVIOR_RATE_LIMIT_API_PER_KEY = 3`;
    the served app runs in this process, so it sees them at once."""
    import time

    from django.core.cache import caches

    settings.PAVIOR_RATE_LIMITS = True
    settings.PAVIOR_RATE_LIMIT_WINDOW = 3600
    caches["rate_limits"].clear()
    if time.time() % 3600 > 3590:
        time.sleep(3600 - time.time() % 3600)
    yield settings
    caches["rate_limits"].clear()


@pytest.fixture
def new_workspace(db: Any) -> Any:
    from pavior.workspaces.actions import create_workspace

    return create_workspace("Acme")


@pytest.fixture
def workspace(new_workspace: Any) -> Any:
    return new_workspace.workspace


@pytest.fixture
def api(client: Any, new_workspace: Any) -> ApiClient:
    return ApiClient(client=client, key=new_workspace.api_key)


def error_of(response: Any) -> dict[str, Any]:
    """The error object of a 4xx response, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]


# --- a real browser (Debian's Chromium through Playwright; never downloaded) ---------

CHROMIUM = os.environ.get("PAVIOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = os.environ.get("PAVIOR_TEST_ARTIFACTS", os.path.join(os.getcwd(), "test-artifacts"))


# Per module, not per session: Playwright's sync API keeps an event loop running
# in the main thread while it is started, and tests of other modules that call
# asyncio.run() (the intake's ASGI tests) must not find one.
@pytest.fixture(scope="module")
def browser() -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API refuses to start inside a running event loop;
    # Django's async-unsafe guard must also let the live server's DB calls through.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@dataclass
class PageProbe:
    """What a page did that a user would not see: dialogs, console errors, CSP reports."""

    dialogs: list[str]
    console_errors: list[str]


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    probe = PageProbe(dialogs=[], console_errors=[])

    def on_dialog(dialog: Any) -> None:
        probe.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on(
        "console",
        lambda msg: probe.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    pg.probe = probe
    yield pg
    context.close()


def screenshot(page: Any, name: str) -> str:
    """Save a full-page screenshot as a test artefact (looked at before a page is done)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, f"{name}.png")
    page.screenshot(path=path, full_page=True)
    return path


# --- the application as served: pavior.asgi under uvicorn ------------------------


@dataclass
class Served:
    """A running uvicorn serving pavior.asgi:application, as `pavior serve` does."""

    url: str
    host: str
    port: int


def _free_socket() -> Any:
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def _uvicorn(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One uvicorn for the session, in a thread of this process so the tests'
    clock (pavior.tracking.clock) and cache are the server's too. It talks to
    the test database like any other connection, so tests that use it need
    `django_db(transaction=True)` to see what it committed, and it theirs."""
    import threading
    import time

    import uvicorn

    from pavior.asgi import application
    from pavior.tracking.writer import writer

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sock = _free_socket()
    port = sock.getsockname()[1]
    from pavior.cli import uvicorn_options

    config = uvicorn.Config(
        application, log_level="warning", access_log=False, loop="asyncio", **uvicorn_options()
    )
    server = uvicorn.Server(config)
    with django_db_blocker.unblock():
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("uvicorn did not start serving pavior.asgi")
            time.sleep(0.02)
        yield Served(url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port)
        server.should_exit = True
        thread.join(timeout=20)
        writer.stop()  # closes its connection, so the test database can be dropped
        from django.db import connections

        connections.close_all()


@pytest.fixture
def served(_uvicorn: Served, transactional_db: Any) -> Any:
    """The served application (pavior.asgi under uvicorn) for one test; its group
    writer is stopped after the test so no connection outlives the test's data."""
    from pavior.tracking.writer import writer

    yield _uvicorn
    writer.stop()
