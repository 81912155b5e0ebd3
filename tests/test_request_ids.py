"""Every response names its request id (X-Request-ID), and an internal error is
logged with its traceback under that id, so a user's report of a 500 leads to
the log line. Over HTTP against the served application (pavior.asgi under
uvicorn), with the logging configured in settings.LOGGING."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.db import connection

from tests.conftest import error_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """What the configured console handler writes (stderr in production)."""
    handler = logging.getLogger("django.request").handlers[0]
    assert handler in logging.getLogger("pavior").handlers  # one handler, one format
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    handler.setStream(old)  # type: ignore[attr-defined]


def _fail_inserts(table: str) -> None:
    """A real database failure on every insert into `table`."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE FUNCTION pavior_test_down() RETURNS trigger AS "
                "$$ BEGIN RAISE EXCEPTION 'disk is on fire'; END $$ LANGUAGE plpgsql"
            )
            cur.execute(
                f"CREATE TRIGGER pavior_test_down BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pavior_test_down()"
            )
        else:  # an error SQLite reports as such (RAISE(ABORT) would be a constraint)
            cur.execute(
                f"CREATE TRIGGER pavior_test_down BEFORE INSERT ON {table} "
                "BEGIN SELECT * FROM disk_is_on_fire; END"
            )


def _repair(table: str) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"DROP TRIGGER pavior_test_down ON {table}")
            cur.execute("DROP FUNCTION pavior_test_down()")
        else:
            cur.execute("DROP TRIGGER pavior_test_down")


def test_every_response_names_its_request_id(served: Any, new_workspace: Any) -> None:
    auth = {"Authorization": f"Bearer {new_workspace.api_key}"}
    responses = [
        httpx.get(f"{served.url}/login/"),
        httpx.get(f"{served.url}/api/v1/workspace", headers=auth),
        httpx.post(f"{served.url}/api/v1/track", content=b"{}"),
    ]
    ids = [r.headers["X-Request-ID"] for r in responses]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == 3
    # A proxy's id is kept, so one id follows the request through both logs...
    r = httpx.get(f"{served.url}/login/", headers={"X-Request-ID": "edge-42.a:b"})
    assert r.headers["X-Request-ID"] == "edge-42.a:b"
    # ...but not one that could forge log lines or bloat them.
    for bad in ("a b", "x" * 65, "<script>", "-starts-with-a-dash"):
        r = httpx.get(f"{served.url}/login/", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"]), bad


def test_an_internal_error_is_logged_with_its_traceback_under_the_response_id(
    served: Any, new_workspace: Any, log_text: io.StringIO
) -> None:
    from pavior.people.models import Person

    table = Person._meta.db_table
    _fail_inserts(table)
    try:
        r = httpx.put(
            f"{served.url}/api/v1/users/u1",
            json={"name": "Ada"},
            headers={"Authorization": f"Bearer {new_workspace.api_key}"},
        )
    finally:
        _repair(table)
    assert r.status_code == 500
    request_id = r.headers["X-Request-ID"]
    error = error_of(r)
    assert error["code"] == "internal_error"
    assert request_id in error["message"]
    logged = log_text.getvalue()
    line = next(x for x in logged.splitlines() if f"[{request_id}]" in x)
    assert "ERROR django.request" in line and "/api/v1/users/u1" in line
    assert "Traceback (most recent call last)" in logged
    assert "disk_is_on_fire" in logged or "disk is on fire" in logged


def test_an_admin_page_500_shows_the_id_it_is_logged_under(
    served: Any, new_workspace: Any, log_text: io.StringIO
) -> None:
    """First run (no team yet) creates the admin; the database refuses the workspace."""
    from pavior.workspaces.models import Workspace

    Workspace.objects.all().delete()
    table = Workspace._meta.db_table
    with httpx.Client(base_url=served.url) as browser:
        form = browser.get("/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert match, form.text
        _fail_inserts(table)
        try:
            r = browser.post(
                "/",
                data={
                    "email": "owner@example.com",
                    "password": "correct horse battery staple",
                    "workspace": "Acme",
                    "csrfmiddlewaretoken": match.group(1),
                },
            )
        finally:
            _repair(table)
    assert r.status_code == 500
    request_id = r.headers["X-Request-ID"]
    assert request_id in r.text and "Traceback" not in r.text  # no internals shown
    assert f"[{request_id}]" in log_text.getvalue()


def test_the_tracking_intake_logs_its_5xx_under_the_response_id(
    served: Any, new_workspace: Any, log_text: io.StringIO
) -> None:
    from pavior.tracking.models import RawEvent

    table = RawEvent._meta.db_table
    body = {
        "app_id": new_workspace.workspace.app_id,
        "user": {"id": "u1"},
        "events": [{"message_id": str(uuid.uuid4()), "type": "page"}],
    }
    _fail_inserts(table)
    try:
        r = httpx.post(f"{served.url}/api/v1/track", content=json.dumps(body))
    finally:
        _repair(table)
    assert r.status_code == 503
    request_id = r.headers["X-Request-ID"]
    lines = [x for x in log_text.getvalue().splitlines() if f"[{request_id}]" in x]
    assert any("POST /api/v1/track answered 503" in x for x in lines), lines
