"""The workspace switcher: a member moves between their workspaces; anybody
else's workspace is a 403 and changes nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import PASSWORD, add_users

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(client: httpx.Client, email: str) -> None:
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text
    r = client.post(
        "/login/",
        data={"csrfmiddlewaretoken": token.group(1), "email": email, "password": PASSWORD},
    )
    assert r.status_code == 302, r.text


def switch(client: httpx.Client, workspace_id: Any) -> httpx.Response:
    return client.post(
        "/workspace/switch/",
        data={"workspace": str(workspace_id)},
        headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": str(client.base_url)},
    )


def test_only_members_may_switch_to_a_workspace(served: Any) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    mine = create_workspace("Mine").workspace
    also_mine = create_workspace("Also mine").workspace
    theirs = create_workspace("Theirs").workspace
    create_admin("me@example.com", PASSWORD, workspaces=[mine, also_mine])
    create_admin("them@example.com", PASSWORD, workspaces=[theirs])
    add_users(mine, [{"id": "m1", "email": "in-mine@example.com"}])
    add_users(also_mine, [{"id": "a1", "email": "in-also-mine@example.com"}])
    add_users(theirs, [{"id": "t1", "email": "in-theirs@example.com"}])

    with httpx.Client(base_url=served.url, timeout=30) as client:
        sign_in(client, "me@example.com")
        assert switch(client, mine.pk).status_code == 302
        assert "in-mine@example.com" in client.get("/").text

        r = switch(client, theirs.pk)
        assert r.status_code == 403
        assert "not a member of that workspace" in r.text
        home = client.get("/").text
        assert "in-mine@example.com" in home and "in-theirs@example.com" not in home
        assert "Theirs" not in home  # not even offered in the switcher

        r = switch(client, also_mine.pk)
        assert r.status_code == 302
        home = client.get("/").text
        assert "in-also-mine@example.com" in home and "in-mine@example.com" not in home

        assert switch(client, "nope").status_code == 400
