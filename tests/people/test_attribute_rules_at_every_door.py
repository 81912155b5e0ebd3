"""What a kind of attribute never allows gets the same refusal from the REST API
and from the attributes page (one rule: core.attributes.check_attribute_change,
applied by people.actions.change_attribute / delete_attribute)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from pavior.people.actions import create_attribute
from pavior.workspaces.actions import create_admin
from pavior.workspaces.models import Workspace
from tests.conftest import error_of


@pytest.fixture
def page(workspace: Any) -> Client:
    """A team member of the API's workspace, signed in to the admin pages."""
    client = Client()
    client.force_login(
        create_admin("owner@example.com", "a long passphrase", workspaces=[workspace])
    )
    return client


def page_message(response: Any) -> str:
    """The flash message the page shows after its redirect."""
    assert response.redirect_chain, "the page should redirect back to the attributes list"
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1, shown
    return shown[0]


REFUSED_CHANGES = [
    # (API PATCH body, page action, attribute, message)
    (
        {"archived": True},
        "archive",
        "email",
        "Email is a built-in attribute; it cannot be archived",
    ),
    (
        {"archived": False},
        "restore",
        "email",
        "Email is a built-in attribute; it cannot be archived",
    ),
    (
        {"browser_writable": False},
        "lock",
        "last_seen_at",
        "Last seen is never written by the browser",
    ),
    (
        {"browser_writable": True},
        "unlock",
        "last_seen_at",
        "Last seen is never written by the browser",
    ),
    (
        {"browser_writable": False},
        "lock",
        "current_page_url",
        "Current page URL is never written by the browser",
    ),
]


@pytest.mark.parametrize(("body", "action", "name", "message"), REFUSED_CHANGES)
def test_the_api_refuses_it(
    api: Any, workspace: Workspace, body: dict, action: str, name: str, message: str
) -> None:
    r = api.patch(f"/attributes/{name}", body)
    assert r.status_code == 422
    assert error_of(r)["message"] == message
    workspace.refresh_from_db()
    assert workspace.locked_builtins == []


@pytest.mark.parametrize(("body", "action", "name", "message"), REFUSED_CHANGES)
def test_the_page_refuses_it_with_the_same_message(
    page: Client, workspace: Workspace, body: dict, action: str, name: str, message: str
) -> None:
    shown = page.post(f"/attributes/{name}/", {"action": action}, follow=True)
    assert page_message(shown) == message
    workspace.refresh_from_db()
    assert workspace.locked_builtins == []


DELETE_REFUSED = "Email is a built-in attribute; it cannot be deleted"


def test_the_api_cannot_delete_a_built_in(api: Any) -> None:
    r = api.delete("/attributes/email")
    assert r.status_code == 422
    assert error_of(r) == {"code": "invalid_value", "message": DELETE_REFUSED, "field": "name"}


def test_the_page_cannot_delete_a_built_in(page: Client) -> None:
    # The confirmation page is not offered, and a typed confirmation is refused too.
    assert page_message(page.get("/attributes/email/delete/", follow=True)) == DELETE_REFUSED
    posted = page.post("/attributes/email/delete/", {"confirm_name": "email"}, follow=True)
    assert page_message(posted) == DELETE_REFUSED


def test_an_unknown_custom_attribute_is_404_at_both_doors(api: Any, page: Client) -> None:
    assert api.delete("/attributes/nope").status_code == 404
    assert page.get("/attributes/nope/delete/").status_code == 404


def test_a_browser_written_built_in_and_a_custom_one_lock_from_either_door(
    api: Any, page: Client, workspace: Workspace
) -> None:
    create_attribute(workspace, "plan", "string")
    assert api.patch("/attributes/email", {"browser_writable": False}).status_code == 200
    page.post("/attributes/phone/", {"action": "lock"})
    workspace.refresh_from_db()
    assert workspace.locked_builtins == ["email", "phone"]
    page.post("/attributes/plan/", {"action": "lock"})
    assert api.get("/attributes").json()[-1] == {
        "name": "plan",
        "rendered_name": "Plan",
        "type": "string",
        "builtin": False,
        "live": False,
        "archived": False,
        "browser_writable": False,
    }
    page.post("/attributes/plan/", {"action": "archive"})
    assert api.get("/attributes").json()[-1]["archived"] is True
