"""Open a user's profile, edit a custom value inline, erase the user."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from pavior.people.actions import create_attribute
from pavior.people.models import Person
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean


def test_open_profile_and_edit_a_value(signed_in: Any, team: Team) -> None:
    page = signed_in
    ws = team.workspace
    create_attribute(ws, "seats", "number")
    create_attribute(ws, "renewsOn", "date")
    add_users(ws, [{"id": "u1", "email": "ada@example.com", "name": "Ada Lovelace", "seats": 3}])
    page.goto(page.base + "/")
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("heading", name="Built-in attributes")).to_be_visible()
    expect(page.get_by_role("heading", name="Custom attributes")).to_be_visible()

    # A value of the wrong type is refused beside the field, and nothing is stored.
    seats = page.get_by_label("Seats")
    seats.fill("many")
    seats.press("Enter")
    error = page.locator("#err-seats")
    expect(error).to_contain_text("many")
    expect(page.get_by_label("Seats")).to_have_attribute("aria-invalid", "true")
    assert Person.objects.get(external_id="u1").custom["seats"] == 3
    screenshot(page, "web-profile-error")

    page.get_by_label("Seats").fill("12")
    page.locator("#attr-seats").get_by_role("button", name="Save").click()
    expect(page.locator("#err-seats")).to_have_count(0)
    expect(page.get_by_label("Seats")).to_have_value("12")
    assert Person.objects.get(external_id="u1").custom["seats"] == 12

    page.get_by_label("Renews On").fill(
        "2030-01-15T00:00"
    )  # a date/time field, in the workspace zone
    page.locator("#attr-renewsOn").get_by_role("button", name="Save").click()
    expect(page.locator("#attr-renewsOn")).to_contain_text("2030-01-15")
    expect(page.locator("#attr-renewsOn")).to_contain_text("in ")
    page.reload()
    expect(page.get_by_label("Seats")).to_have_value("12")
    screenshot(page, "web-profile")
    assert_clean(page)


def test_erase_user_after_confirmation(signed_in: Any, team: Team) -> None:
    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "ada@example.com", "name": "Ada"}])
    person = Person.objects.get(external_id="u1")
    page.goto(f"{page.base}/users/{person.pk}/")
    page.get_by_role("link", name="Erase user…").click()
    screenshot(page, "web-erase-confirm")
    page.get_by_role("button", name="Erase user").click()
    expect(page.get_by_role("status")).to_contain_text("erased")
    assert not Person.objects.filter(external_id="u1").exists()


def test_another_workspace_user_is_not_found(signed_in: Any, team: Team) -> None:
    from pavior.workspaces.actions import create_workspace

    other = create_workspace("Other").workspace
    add_users(other, [{"id": "x", "email": "x@example.com"}])
    person = Person.objects.get(external_id="x")
    response = signed_in.goto(f"{signed_in.base}/users/{person.pk}/")
    assert response.status == 404


def test_profile_lists_recent_pages_from_the_website(
    signed_in: Any, team: Team, served: Any
) -> None:
    """Page views sent by the snippet show on the profile, newest first, without heartbeats."""
    import json
    import time
    import uuid

    import httpx

    page = signed_in
    now_ms = int(time.time() * 1000)
    events = [
        {
            "message_id": str(uuid.uuid4()),
            "type": "page",
            "at": now_ms - 60_000,
            "url": "https://shop.example/",
        },
        {
            "message_id": str(uuid.uuid4()),
            "type": "heartbeat",
            "at": now_ms - 45_000,
            "url": "https://shop.example/",
        },
        {
            "message_id": str(uuid.uuid4()),
            "type": "page",
            "at": now_ms - 30_000,
            "url": "https://shop.example/pricing",
        },
    ]
    body = {
        "app_id": team.workspace.app_id,
        "sent_at": now_ms,
        "user": {"id": "u9", "email": "grace@example.com"},
        "events": events,
    }
    # Over HTTP to the served intake (pavior.asgi), as the snippet would send it.
    r = httpx.post(f"{served.url}/api/v1/track", content=json.dumps(body))
    assert r.status_code == 200, r.text
    person = Person.objects.get(workspace=team.workspace, external_id="u9")
    page.goto(f"{page.base}/users/{person.pk}/")
    items = page.locator("ul.activity li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Viewed a page")
    expect(items.nth(0)).to_contain_text("/pricing")
    expect(items.nth(1)).not_to_contain_text("/pricing")
    screenshot(page, "web-profile-activity")
    assert_clean(page)
