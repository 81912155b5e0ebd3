"""The end of the first run shows the workspace's first API key and identity secret
once, and that key is the one the REST API accepts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot
from tests.web.conftest import assert_clean

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_run_shows_the_first_key_and_secret_once(page: Any, served: Any) -> None:
    from pavior.workspaces.models import IdentitySecret

    page.goto(served.url + "/")
    page.get_by_label("Workspace name").fill("Acme")
    page.get_by_label("Email").fill("first@example.com")
    page.get_by_label("Password").fill("a much longer passphrase")
    page.get_by_role("button", name="Create admin and workspace").click()
    expect(page.get_by_role("heading", name="Install Pavior on your website")).to_be_visible()
    key = page.locator("#first-api-key").inner_text().strip()
    secret = page.locator("#first-identity-secret").inner_text().strip()
    screenshot(page, "web-first-run-keys")

    r = httpx.get(f"{served.url}/api/v1/workspace", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert secret == IdentitySecret.objects.get().secret

    page.goto(served.url + "/install/")
    expect(page.get_by_role("heading", name="Install Pavior on your website")).to_be_visible()
    html = page.content()
    assert key not in html and secret not in html
    assert_clean(page)
