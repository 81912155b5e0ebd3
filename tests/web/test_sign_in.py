"""A team member signs in with email and password and lands on the users list."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.web.conftest import Team, assert_clean, sign_in


def test_sign_in_with_email_and_password(page: Any, served: Any, team: Team) -> None:
    page.goto(f"{served.url}/")
    expect(page).to_have_url(f"{served.url}/login/?next=/")
    screenshot(page, "web-login")
    # The email is matched case-insensitively, as create_admin lowercases it.
    sign_in(page, served.url, "OWNER@example.com", team.password)
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Users")).to_have_attribute("aria-current", "page")
    assert_clean(page)


def test_wrong_password_is_refused_beside_the_form(page: Any, served: Any, team: Team) -> None:
    sign_in(page, served.url, team.email, "not the password")
    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match a team member."
    )
    expect(page.get_by_role("heading", name="Users", exact=True)).to_have_count(0)
    screenshot(page, "web-login-error")


def test_sign_out(signed_in: Any) -> None:
    page = signed_in
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{page.base}/login/")
    page.goto(f"{page.base}/attributes/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
