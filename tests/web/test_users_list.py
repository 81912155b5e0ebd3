"""The users list: add an attribute from "Modify columns", filter, sort, search, paginate."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from pavior.core.attributes import Trust
from pavior.people.actions import create_attribute, upsert_user
from tests.conftest import screenshot
from tests.web.conftest import Team, add_users, assert_clean


def column_headers(page: Any) -> list[str]:
    return [t.strip(" ▲▼") for t in page.locator("#users-table thead th").all_inner_texts()]


def headers(page: Any) -> Any:
    """The header cells, for Playwright's waiting `expect`."""
    return page.locator("#users-table thead th")


def first_column(page: Any) -> Any:
    return page.locator("#users-table tbody td:first-child")


def test_add_new_attribute_from_modify_columns(signed_in: Any, team: Team) -> None:
    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "ada@example.com", "name": "Ada Lovelace"}])
    page.goto(page.base + "/")
    assert column_headers(page) == [
        "Name",
        "Email",
        "Last seen",
        "City",
        "Country",
        "Total visits",
        "Signed up on",
    ]
    page.get_by_role("button", name="Modify columns").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    name = dialog.get_by_label("Attribute name")
    name.fill("planTier2")
    # The preview comes from the server's render_name (htmx GET as you type).
    expect(dialog.locator("#new-attr-preview")).to_have_text("Shown as Plan Tier 2")
    screenshot(page, "web-columns-dialog")
    dialog.get_by_role("button", name="Add new attribute").click()
    expect(headers(page).last).to_have_text("Plan Tier 2")
    assert_clean(page)


def test_add_new_attribute_shows_the_api_error_beside_the_field(signed_in: Any, team: Team) -> None:
    page = signed_in
    page.goto(page.base + "/")
    page.get_by_role("button", name="Modify columns").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Attribute name").fill("trialEndsAt")
    dialog.get_by_label("Type").select_option("number")
    dialog.get_by_role("button", name="Add new attribute").click()
    # The page comes back with the dialog open and the core's message beside the name.
    alert = page.get_by_role("dialog").get_by_role("alert")
    expect(alert).to_contain_text("date")
    # The core names the type as the problem, so the type field is marked.
    expect(page.get_by_role("dialog").get_by_label("Type")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_role("dialog").get_by_label("Attribute name")).to_have_value("trialEndsAt")
    screenshot(page, "web-add-attribute-error")


def test_hide_and_reorder_columns_is_remembered(signed_in: Any, team: Team) -> None:
    page = signed_in
    add_users(team.workspace, [{"id": "u1", "email": "ada@example.com", "name": "Ada"}])
    page.goto(page.base + "/")
    page.get_by_role("button", name="Modify columns").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("checkbox", name="City").uncheck()
    dialog.get_by_role("button", name="Save columns").click()
    expect(headers(page).filter(has_text="City")).to_have_count(0)
    expect(headers(page)).to_have_count(6)
    page.get_by_role("button", name="Modify columns").click()
    page.get_by_role("button", name="Move Email up").click()
    page.wait_for_load_state()
    # The dialog re-opens after a move so several moves are quick.
    expect(page.get_by_role("dialog")).to_be_visible()
    page.goto(page.base + "/")
    expect(headers(page).nth(0)).to_have_text("Email")
    expect(headers(page).nth(1)).to_have_text("Name")


def test_filter_sort_search_and_paginate(signed_in: Any, team: Team) -> None:
    page = signed_in
    ws = team.workspace
    create_attribute(ws, "plan", "string")
    create_attribute(ws, "seats", "number")
    for i in range(60):
        upsert_user(
            ws,
            {
                "id": f"user{i:02d}",
                "email": f"user{i:02d}@example.com",
                "name": f"Person {i:02d}",
                "plan": "pro" if i % 2 else "free",
                "seats": i,
            },
            trust=Trust.SECRET,
        )
    page.goto(page.base + "/")
    expect(page.locator("#match-count")).to_have_text("60 users")
    # Pagination: 50 on the first page, the rest behind "Next page".
    rows = page.locator("#users-table tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(10)

    # Filter: plan is "pro" AND seats >= 40.
    page.goto(page.base + "/")
    page.get_by_label("Attribute 1").select_option("plan")
    page.get_by_label("Operator 1").select_option("eq")
    page.get_by_label("Value 1").fill("pro")
    page.get_by_role("button", name="Add condition").click()
    page.get_by_label("Attribute 2").select_option("seats")
    # Only the number operators are offered for a number attribute.
    visible_ops = page.get_by_label("Operator 2").locator("optgroup:not([hidden]) option")
    assert visible_ops.all_inner_texts() == ["=", "≠", ">", "≥", "<", "≤", "is set", "is not set"]
    page.get_by_label("Operator 2").select_option("gte")
    page.get_by_label("Value 2").fill("40")
    page.get_by_role("button", name="Apply filter").click()
    page.wait_for_load_state()
    expect(page.locator("#match-count")).to_have_text("10 users match")
    # The filter is the API's JSON, in the URL, so the view is linkable.
    query = parse_qs(urlparse(page.url).query)
    assert json.loads(query["filter"][0]) == {
        "and": [
            {"attribute": "plan", "op": "eq", "value": "pro"},
            {"attribute": "seats", "op": "gte", "value": 40},
        ]
    }
    screenshot(page, "web-users-filtered")

    # Sort by Name descending: click the header twice.
    page.get_by_role("link", name="Name").click()
    page.get_by_role("link", name="Name ▲").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    # The 10 matches (odd seats from 41), by name, descending.
    expect(first_column(page)).to_have_text([f"Person {i}" for i in range(59, 40, -2)])

    # Search keeps the filter and narrows further.
    page.get_by_label("Search by name or email").fill("user45")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#match-count")).to_have_text("1 user matches")
    expect(first_column(page)).to_have_text(["Person 45"])
    assert_clean(page)


def test_a_bad_filter_in_the_url_is_explained_not_a_crash(signed_in: Any, team: Team) -> None:
    page = signed_in
    bad = json.dumps({"attribute": "current_page_url", "op": "contains", "value": "/x"})
    response = page.goto(page.base + "/?filter=" + bad)
    assert response.status == 400
    expect(page.locator("#filter-error")).to_contain_text("live attribute")
