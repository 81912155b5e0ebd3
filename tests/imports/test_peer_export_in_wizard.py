"""The wizard proposes the mapping of a HubSpot contacts export by itself, says why
for each column, and the import gives the users those columns describe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.imports.test_peer_exports import HUBSPOT
from tests.web.conftest import assert_clean, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_hubspot_export_in_the_wizard(
    page: Any, served: Any, tmp_path: Any, immediate_tasks: None
) -> None:
    from pavior.workspaces.actions import create_admin, create_workspace

    new = create_workspace("Acme")
    create_admin("admin@x.io", "correct horse battery", workspaces=[new.workspace])
    path = tmp_path / "hubspot-contacts.csv"
    path.write_text(HUBSPOT, encoding="utf-8")
    sign_in(page, served.url, "admin@x.io", "correct horse battery")
    page.goto(f"{served.url}/imports/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/map/")

    def choice(header: str) -> str:
        return page.get_by_label(f"Import {header} as").input_value()

    assert choice("Email") == "attr:email"
    assert choice("First Name") == "attr:first_name"
    assert choice("Country/Region") == "attr:country"
    assert choice("Create Date") == "attr:first_known_at"
    assert choice("Unsubscribed from all email") == "not:email_subscription"
    assert choice("Record ID") == "new"
    assert page.get_by_label("New attribute name for Record ID").input_value() == "record_id"
    # Each choice says why, next to the column (and to screen readers, on the select).
    expect(page.get_by_label("Import Country/Region as")).to_have_accessible_description(
        "Mapped automatically because in HubSpot exports it is the contact's country."
    )
    expect(page.locator(".js-map-row").filter(has_text="Record ID")).to_contain_text(
        "HubSpot's own record number, not your user id"
    )
    expect(page.locator(".js-map-row").filter(has_text="Unsubscribed from all")).to_contain_text(
        "the opposite of Email subscription"
    )
    screenshot(page, "imports-peer-hubspot-map")
    page.get_by_role("button", name="Validate").click()
    page.wait_for_url("**/validate/")
    page.get_by_role("button", name="Import 2 rows").click()
    page.wait_for_selector("text=Import result")
    assert_clean(page)

    auth = {"Authorization": f"Bearer {new.api_key}"}
    fay = httpx.get(f"{served.url}/api/v1/users/fay@example.com", headers=auth).json()
    gus = httpx.get(f"{served.url}/api/v1/users/gus@example.com", headers=auth).json()
    assert (fay["name"], fay["country"], fay["email_subscription"]) == (
        "Fay Wong",
        "United Kingdom",
        True,
    )
    assert (gus["country"], gus["email_subscription"], gus["record_id"]) == ("Japan", False, 102)
    assert gus["first_known_at"] == "2021-07-08T10:11:00Z"
