"""Hostile values in user data are shown as text on every page, never run."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pavior.core.errors import PaviorError
from pavior.people.actions import create_attribute
from pavior.people.models import Person
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "javascript:alert(1)",
]


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", '"><script>', "javascript:x"])
def test_attribute_names_cannot_hold_markup(team: Team, name: str) -> None:
    with pytest.raises(PaviorError):
        create_attribute(team.workspace, name, "string")


def test_payloads_in_values_and_names_never_run(signed_in: Any, team: Team) -> None:
    page = signed_in
    ws = team.workspace
    create_attribute(ws, "website", "string")
    create_attribute(ws, "note", "string")
    for i, payload in enumerate(PAYLOADS):
        add_users(
            ws,
            [
                {
                    "id": f"u{i}",
                    "email": f"u{i}@example.com",
                    "name": payload,
                    "website": payload,
                    "note": payload,
                }
            ],
        )
    # Show the custom columns too, so payloads reach the table cells.
    page.goto(page.base + "/")
    page.get_by_role("button", name="Modify columns").click()
    page.get_by_role("checkbox", name="Website").check()
    page.get_by_role("checkbox", name="Note").check()
    page.get_by_role("button", name="Save columns").click()
    page.wait_for_load_state()
    expect(page.locator("#users-table")).to_contain_text(PAYLOADS[0])
    screenshot(page, "web-xss-users")

    page.get_by_label("Search by name or email").fill(PAYLOADS[1])
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#users-table tbody tr")).to_have_count(1)

    pages = ["/attributes/", "/install/"]
    pages += [f"/users/{p.pk}/" for p in Person.objects.filter(workspace=ws)]
    pages += [f"/users/{Person.objects.get(external_id='u0').pk}/erase/"]
    for path in pages:
        page.goto(page.base + path)
        page.wait_for_load_state("networkidle")
    screenshot(page, "web-xss-erase")
    page.goto(f"{page.base}/users/{Person.objects.get(external_id='u1').pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(PAYLOADS[1])
    screenshot(page, "web-xss-profile")
    # No script tag or event handler came from the data.
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("a[href^='javascript:']").count() == 0
    assert_clean(page)
