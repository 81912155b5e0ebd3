"""The users list narrows to users whose address is suppressed (a bounce or a complaint)."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from pavior.messaging.suppressions import suppress
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean


def test_pick_email_suppressed_and_keep_it_through_filter_sort_and_export(
    signed_in: Any, team: Team
) -> None:
    page = signed_in
    ws = team.workspace
    add_users(
        ws,
        [
            {"id": "u1", "email": "Ada@Example.com", "name": "Ada"},
            {"id": "u2", "email": "bob@example.com", "name": "Bob"},
            {"id": "u3", "email": "cy@example.com", "name": "Cy"},
            {"id": "u4", "name": "No Email"},
        ],
    )
    suppress(ws, "ada@example.com", "bounce")
    suppress(ws, "cy@example.com", "complaint")
    # Another workspace's suppression of Bob's address is not this one's.
    from pavior.workspaces.actions import create_workspace

    suppress(create_workspace("Other").workspace, "bob@example.com", "bounce")

    page.goto(page.base + "/")
    expect(page.locator("#users-table tbody tr")).to_have_count(4)
    page.get_by_label("Email status", exact=True).select_option(
        label="Email suppressed (bounce or complaint)"
    )
    page.wait_for_url("**/?suppressed=1")
    table = page.locator("#users-table tbody")
    expect(table.locator("tr")).to_have_count(2)
    expect(table).to_contain_text("Ada")
    expect(table).to_contain_text("Cy")
    expect(page.locator("#match-count")).to_have_text("2 users match")
    screenshot(page, "users-suppressed")

    # A filter bar condition narrows it further and keeps the choice.
    page.get_by_label("Attribute 1").select_option("name")
    page.get_by_label("Operator 1").select_option("eq")
    page.get_by_label("Value 1").fill("Cy")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    assert "suppressed=1" in page.url
    # Back to any status: the filter bar's condition stays.
    page.get_by_label("Email status", exact=True).select_option("")
    page.wait_for_url("**suppressed=")
    expect(page.locator("#users-table tbody tr")).to_have_count(1)
    assert "suppressed=1" not in page.url and "Cy" in page.url
    # Sort links keep the choice.
    page.goto(page.base + "/?suppressed=1&sort=name&dir=desc")
    expect(page.locator("#users-table tbody tr").first).to_contain_text("Cy")
    link = page.locator("#users-table thead a").first.get_attribute("href")
    assert link is not None and "suppressed=1" in link

    # The CSV export of the list is the same users.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    r = httpx.get(page.base + "/users/export.csv?suppressed=1", cookies=cookies)
    assert r.status_code == 200
    lines = r.text.strip().splitlines()
    assert len(lines) == 3 and "u1" in r.text and "u3" in r.text and "u2" not in r.text
    assert_clean(page)
