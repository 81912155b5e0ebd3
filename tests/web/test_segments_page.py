"""Segments in the admin: save the users list's filter, pick it, rename and delete it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from pavior.core.attributes import Trust
from tests.conftest import screenshot
from tests.web.conftest import Team, assert_clean, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded(team: Team) -> None:
    from pavior.people.actions import upsert_user

    for i, country in enumerate(["FR", "FR", "DE", "US", "FR"]):
        upsert_user(
            team.workspace,
            {"id": f"u{i}", "name": f"User {i}", "country": country},
            trust=Trust.SECRET,
        )


def test_save_the_filter_on_screen_as_a_segment_then_pick_rename_and_delete_it(
    served: Any, page: Any, team: Team, seeded: None
) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/")
    page.get_by_label("Attribute 1").select_option("country")
    page.get_by_label("Operator 1").select_option("eq")
    page.get_by_label("Value 1").fill("FR")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#match-count")).to_have_text("3 users match")

    page.get_by_label("Segment name").fill("French users")
    page.get_by_role("button", name="Save as segment").click()
    expect(page.get_by_role("status")).to_contain_text('Segment "French users" saved.')
    picker = page.get_by_label("Segment", exact=True)
    expect(picker.locator("option:checked")).to_have_text("French users")
    expect(page.locator("#match-count")).to_have_text("3 users match")

    # Narrow the segment with the filter bar: the segment stays, the condition is added.
    page.get_by_label("Attribute 1").select_option("name")
    page.get_by_label("Operator 1").select_option("eq")
    page.get_by_label("Value 1").fill("User 4")
    page.get_by_role("button", name="Apply filter").click()
    expect(page.locator("#match-count")).to_have_text("1 user matches")
    expect(picker.locator("option:checked")).to_have_text("French users")
    screenshot(page, "segments-users-list-picker")

    # Picking "All users" drops the segment.
    picker.select_option(label="All users")
    page.wait_for_load_state()
    expect(page.locator("#match-count")).to_have_text("5 users")

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Segments"
    ).click()
    row = page.locator("#segments-table tbody tr", has_text="French users")
    expect(row.locator("td.num")).to_have_text("3")
    screenshot(page, "segments-page")

    row.get_by_label("New name for French users").fill("France")
    row.get_by_role("button", name="Rename French users").click()
    expect(page.get_by_role("status")).to_contain_text('renamed to "France"')

    from pavior.people.actions import upsert_user

    upsert_user(team.workspace, {"id": "u9", "country": "FR"}, trust=Trust.SECRET)
    page.reload()
    row = page.locator("#segments-table tbody tr", has_text="France")
    expect(row.locator("td.num")).to_have_text("4")  # the count is live

    row.get_by_role("link", name="Delete France").click()
    expect(page.get_by_role("heading", name='Delete segment "France"?')).to_be_visible()
    page.get_by_role("button", name="Delete segment").click()
    expect(page.get_by_role("status")).to_contain_text('Segment "France" deleted.')
    expect(page.locator("#segments-table")).to_have_count(0)
    assert_clean(page)


def test_a_segment_in_use_is_not_deleted_and_the_page_says_why(
    served: Any, page: Any, team: Team, seeded: None
) -> None:
    from pavior.segments.actions import create_segment

    fr = create_segment(
        team.workspace, "French", {"attribute": "country", "op": "eq", "value": "FR"}
    )
    create_segment(
        team.workspace,
        "French or German",
        {"or": [{"segment": fr.pk}, {"attribute": "country", "op": "eq", "value": "DE"}]},
    )
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/segments/{fr.pk}/delete/")
    page.get_by_role("button", name="Delete segment").click()
    expect(page.get_by_role("alert")).to_contain_text('segment "French or German"')
    page.goto(f"{served.url}/segments/")
    expect(page.locator("#segments-table tbody tr")).to_have_count(2)
    row = page.locator("#segments-table tbody tr", has_text="French or German")
    expect(row.locator("td.num")).to_have_text("4")


def test_a_duplicate_name_is_refused_with_the_reason(
    served: Any, page: Any, team: Team, seeded: None
) -> None:
    from pavior.segments.actions import create_segment

    create_segment(team.workspace, "VIP", {})
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/")
    page.get_by_label("Attribute 1").select_option("country")
    page.get_by_label("Operator 1").select_option("is_set")
    page.get_by_role("button", name="Apply filter").click()
    page.get_by_label("Segment name").fill("vip")
    page.get_by_role("button", name="Save as segment").click()
    expect(page.get_by_role("status")).to_contain_text('A segment named "VIP" already exists')
