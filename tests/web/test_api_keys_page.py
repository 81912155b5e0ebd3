"""The "API keys" settings page: a key made in the browser works against the REST
API as served, shows when it was last used, and stops working once revoked."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.web.conftest import Team, assert_clean, sign_in

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = '<img src=x onerror="alert(1)">Billing'


def test_create_use_and_revoke_a_key_in_the_browser(page: Any, served: Any, team: Team) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    # The workspace's first key (made with it) is listed by name, never in full.
    expect(page.get_by_role("cell", name="default", exact=True)).to_be_visible()

    page.get_by_label("Key name").fill(HOSTILE)
    page.get_by_role("button", name="Create API key").click()
    key = page.locator("#new-api-key").inner_text().strip()
    assert key.startswith("sk_") and len(key) > 40
    expect(page.get_by_role("heading", name=f"Your new API key “{HOSTILE}”")).to_be_visible()
    screenshot(page, "web-api-keys-created")

    # The key works over HTTP against the application as served.
    headers = {"Authorization": f"Bearer {key}"}
    r = httpx.put(f"{served.url}/api/v1/users/u1", json={"name": "Ann Lee"}, headers=headers)
    assert r.status_code == 201, r.text
    assert httpx.get(f"{served.url}/api/v1/users/u1", headers=headers).json()["first_name"] == "Ann"

    # Shown once: the list page has its name, prefix and last use, not the key.
    page.goto(f"{served.url}/settings/api-keys/")
    assert key not in page.content()
    row = page.get_by_role("row").filter(has_text="Billing")
    expect(row).to_contain_text(key[:10])
    expect(row).to_contain_text("just now")
    expect(page.get_by_role("row").filter(has_text="default")).to_contain_text("Never")
    screenshot(page, "web-api-keys-list")

    page.get_by_role("button", name=f"Revoke API key {HOSTILE}").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.get_by_role("row").filter(has_text="Billing")).to_have_count(0)
    r = httpx.get(f"{served.url}/api/v1/users/u1", headers=headers)
    assert r.status_code == 401
    assert_clean(page)


def test_a_key_needs_a_name(page: Any, served: Any, team: Team) -> None:
    sign_in(page, served.url, team.email, team.password)
    page.goto(f"{served.url}/settings/api-keys/")
    page.get_by_label("Key name").fill("   ")
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#key-name-error")).to_contain_text("1 to 100 characters")
    assert team.workspace.api_keys.count() == 1
    assert_clean(page)
