"""The attributes page end to end in a browser: create, lock (and what a
locked attribute means to a browser write), archive, restore, and delete with
the typed confirmation."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from pavior.people.actions import create_attribute
from pavior.people.models import AttributeDefinition, Person
from pavior.people.queries import all_attributes
from tests.api.conftest import browser_init
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean


def _row(page: Any, api_name: str) -> Any:
    return page.locator("tr", has=page.locator(f"code:text-is('{api_name}')"))


def _flash(page: Any) -> Any:
    return page.locator(".flash-success, .flash-error")


def _attr(team: Team, name: str) -> Any:
    team.workspace.refresh_from_db()  # built-in locks are kept on the workspace
    return {a.name: a for a in all_attributes(team.workspace)}[name]


def test_attributes_page_end_to_end(signed_in: Any, team: Team, served: Any) -> None:
    page = signed_in
    ws = team.workspace
    create_attribute(ws, "plan", "string")
    add_users(ws, [{"id": "u1", "email": "ada@example.com", "plan": "pro"}])
    page.goto(page.base + "/attributes/")

    # Create.
    page.get_by_label("Attribute name").fill("seatCount")
    page.get_by_label("Type").select_option("number")
    page.get_by_role("button", name="Create attribute").click()
    expect(_flash(page)).to_have_text('Attribute "Seat Count" created.')
    expect(_row(page, "seatCount")).to_contain_text("number")

    # Lock: the row says so, and a browser write through the served intake is refused.
    page.get_by_role("button", name="Lock Plan against browser writes").click()
    expect(_flash(page)).to_contain_text("Plan is locked")
    expect(_row(page, "plan")).to_contain_text("Locked")
    (err,) = browser_init(served, ws.app_id, "u1", {"plan": "free"})["errors"]
    assert err["field"] == "plan"
    assert Person.objects.get(workspace=ws, external_id="u1").custom["plan"] == "pro"
    page.get_by_role("button", name="Unlock Plan for browser writes").click()
    expect(_row(page, "plan")).to_contain_text("Allowed")
    assert _attr(team, "plan").browser_writable is True

    # A built-in the browser may write can be locked too.
    page.get_by_role("button", name="Lock Email against browser writes").click()
    expect(_row(page, "email")).to_contain_text("Locked")
    assert _attr(team, "email").browser_writable is False

    # Archive keeps the values; restore brings the attribute back.
    page.get_by_role("button", name="Archive Plan").click()
    expect(_flash(page)).to_have_text("Plan archived; its values are kept.")
    expect(_row(page, "plan")).to_contain_text("Archived")
    assert _attr(team, "plan").archived is True
    assert Person.objects.get(workspace=ws, external_id="u1").custom["plan"] == "pro"
    screenshot(page, "web-attributes-archived")
    page.get_by_role("button", name="Restore Plan").click()
    expect(_flash(page)).to_have_text("Plan restored.")
    expect(_row(page, "plan")).to_contain_text("Active")
    assert _attr(team, "plan").archived is False

    # Delete: the button waits for the exact name, and the server checks it again.
    page.get_by_role("link", name="Delete Plan").click()
    expect(page.get_by_role("heading", name="Delete Plan?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("its value on 1 user")
    confirm = page.get_by_label("Type plan to confirm")
    delete = page.get_by_role("button", name="Delete attribute and values")
    expect(delete).to_be_disabled()
    confirm.fill("Plan")
    expect(delete).to_be_disabled()
    # Past the script (as a browser without it would be): the server refuses too.
    page.evaluate("document.querySelector('[data-confirm-button]').disabled = false")
    delete.click()
    expect(page.get_by_role("alert")).to_have_text('Type "plan" exactly to confirm.')
    assert AttributeDefinition.objects.filter(workspace=ws, name="plan").exists()
    page.get_by_label("Type plan to confirm").fill("plan")
    expect(delete).to_be_enabled()
    screenshot(page, "web-attributes-delete-confirm")
    delete.click()
    expect(_flash(page)).to_have_text("Plan and its values were deleted.")
    expect(_row(page, "plan")).to_have_count(0)
    assert not AttributeDefinition.objects.filter(workspace=ws, name="plan").exists()
    assert "plan" not in Person.objects.get(workspace=ws, external_id="u1").custom
    screenshot(page, "web-attributes")
    assert [m for m in page.probe.console_errors if "status of 400" not in m] == []
    assert_clean(page)
